"""Distributed training gives the single-device result (losses scaled by the global batch).

Each run is a subprocess (logical devices and TF_CONFIG must be set before TensorFlow starts):
MirroredStrategy over 2 logical CPU devices, and MultiWorkerMirroredStrategy over 2 local worker
processes on 127.0.0.1. Both train the same tiny inpainting GAN (instance norm, SGD, EMA) for 3
steps of global batch 4 and must match single-device training within ``TOLERANCE``.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
WORKER = os.path.join(TESTS, "distribute_worker.py")
TOLERANCE = 1e-4  # max abs weight difference; weights move by > 1e-2 in these 3 steps

pytestmark = pytest.mark.slow


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _launch(mode, out, env=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.Popen([sys.executable, WORKER, mode, out], env=env, cwd=TESTS,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process, timeout=240):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-3000:]


def _assert_matches(result, reference, replicas):
    assert int(result["replicas"]) == replicas
    assert int(result["steps"]) == int(reference["steps"]) == 3
    assert float(reference["moved"]) > 100 * TOLERANCE
    np.testing.assert_allclose(result["g_loss"], reference["g_loss"], rtol=1e-4)
    for key in (k for k in reference.files if k.startswith("w")):
        np.testing.assert_allclose(result[key], reference[key], atol=TOLERANCE, err_msg=key)


@pytest.fixture(scope="module")
def single_device(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("single") / "single.npz")
    _finish(_launch("single", out))
    return np.load(out)


def test_mirrored_strategy_on_two_logical_cpus_matches_single_device(single_device, tmp_path):
    out = str(tmp_path / "mirrored.npz")
    _finish(_launch("mirrored", out))
    _assert_matches(np.load(out), single_device, replicas=2)


def test_multi_worker_mirrored_on_two_local_processes_matches_single_device(single_device, tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    outs = [str(tmp_path / f"worker{i}.npz") for i in range(2)]
    workers = [_launch("multiworker", outs[i], {"TF_CONFIG": json.dumps(
        {"cluster": cluster, "task": {"type": "worker", "index": i}})}) for i in range(2)]
    try:
        for worker in workers:
            _finish(worker)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for out in outs:  # every worker holds the same, single-device weights
        _assert_matches(np.load(out), single_device, replicas=2)
