"""Failure modes, outputs: exports that must describe their model, damaged model files, scene
edits checked before they start, read-only and full disks, umask modes, debris of kills.

Cases: an export or evaluation for a task the generator was not trained for (with and without
a record of it), an ``--image-size`` / ``--window`` the generator cannot run at, truncated
exports and ``.keras`` files, ``edit --out`` naming a folder or a missing folder, read-only and
full output folders, outputs under umask 022 and 027, ``kill -9`` during an export and an
edit (the old output stays, the next call removes the temporaries), and each kind of debris a
killed write leaves in a run folder.
"""

import json
import os
import subprocess
import uuid

import pytest

from failure_helpers import file_hashes, one_line_error, run_script
from lcgan.cli import main
from lcgan.data import raster
from lcgan.data.legend import Legend
from lcgan.models import dual_branch_generator, unet_generator
from lcgan.scenes.export import export_generator
from lcgan.scenes.provenance import save_keras_generator

LEGEND = Legend(["water", "forest", "urban", "field"],
                [(0, 0, 255), (0, 128, 0), (128, 128, 128), (255, 255, 0)], name="test")
SIZE = 32


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """``.keras`` files of a Mix LC (with and without a record) and an inpainting generator, an
    export of the Mix LC one, and the legend file."""
    folder = tmp_path_factory.mktemp("models")
    shape = dict(image_size=SIZE, num_classes=LEGEND.num_classes, width=4)
    mixlc, inpaint = unet_generator(**shape), dual_branch_generator(**shape, use_mask=True)
    mixlc.save(folder / "plain_mixlc.keras")
    save_keras_generator(mixlc, folder / "mixlc.keras", task="mixlc", image_size=SIZE,
                         legend=LEGEND)
    save_keras_generator(inpaint, folder / "inpaint.keras", task="inpaint", image_size=SIZE,
                         legend=LEGEND)
    export_generator(mixlc, folder / "export", legend=LEGEND, task="mixlc", image_size=SIZE)
    LEGEND.to_json(folder / "legend.json")
    return folder


@pytest.fixture
def scene(geotiff_pair, tmp_path):
    """A 48 x 40 scene and its edited landcover (a forest block)."""
    pair = geotiff_pair(height=48, width=40, num_classes=LEGEND.num_classes)
    edited = pair.landcover.copy()
    edited[10:30, 5:25] = LEGEND.class_id("forest")
    pair.edited_path = tmp_path / "edited.tif"
    raster.write_geotiff(pair.edited_path, edited, crs=pair.crs, transform=pair.transform)
    return pair


def _edit_argv(models, scene, out, *extra):
    return ["edit", "--model", models / "export", "--rgb", scene.rgb_path, "--landcover",
            scene.edited_path, "--original-landcover", scene.landcover_path, "--out", out,
            "--window", SIZE, "--overlap", 8, "--no-progress", *extra]


@pytest.mark.parametrize("generator, task, words", [
    ("mixlc.keras", "inpaint", "was trained for task 'mixlc', not 'inpaint'"),
    ("inpaint.keras", "mixlc", "was trained for task 'inpaint', not 'mixlc'"),
    ("plain_mixlc.keras", "inpaint", "has no 'mask' input and no record of its task"),
], ids=["recorded_mixlc_as_inpaint", "recorded_inpaint_as_mixlc",
        "unrecorded_maskless_as_inpaint"])
def test_export_refuses_a_task_the_generator_was_not_trained_for(generator, task, words, models,
                                                                 tmp_path, capsys):
    line = one_line_error(capsys, ["export", "--generator", models / generator, "--legend",
                                   models / "legend.json", "--task", task, "--image-size", SIZE,
                                   "--out", tmp_path / "e"])
    assert words in line and f"Received: task={task!r}" in line, line
    assert not os.path.exists(tmp_path / "e")


def test_evaluate_refuses_an_export_of_another_task(models, tmp_path, capsys):
    line = one_line_error(capsys, ["evaluate", "--generator", models / "export", "--task",
                                   "inpaint", "--image-size", SIZE, "--out", tmp_path / "ev"])
    assert "was trained for task 'mixlc', not 'inpaint'" in line, line


def test_export_probes_the_image_size(models, tmp_path, capsys):
    line = one_line_error(capsys, ["export", "--generator", models / "mixlc.keras", "--legend",
                                   models / "legend.json", "--task", "mixlc", "--image-size", 36,
                                   "--out", tmp_path / "e"])
    assert "`image_size`: the generator cannot run on 36 x 36 pixels" in line, line
    assert not os.listdir(tmp_path)


def _truncate(path):
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])


@pytest.mark.parametrize("file, words", [
    ("export/saved_model.pb", "Cannot load the SavedModel"),
    ("export/variables/variables.data-00000-of-00001", "Cannot load the SavedModel"),
    ("export/lcgan_export.json", "Cannot read export metadata"),
    ("mixlc.keras", "not a complete .keras file"),
], ids=["saved_model_pb", "variables", "metadata", "keras_file"])
def test_truncated_model_files_are_named(file, words, models, tmp_path, capsys):
    damaged = tmp_path / "models"
    subprocess.run(["cp", "-r", str(models), str(damaged)], check=True)
    _truncate(damaged / file)
    generator = damaged / ("export" if file.startswith("export") else file)
    line = one_line_error(capsys, ["evaluate", "--generator", generator, "--task", "mixlc",
                                   "--image-size", SIZE, "--out", tmp_path / "ev"])
    assert words in line and str(generator) in line, line


def test_edit_checks_out_and_window_before_reading_the_scene(models, scene, tmp_path, capsys):
    (tmp_path / "folder.tif").mkdir()
    line = one_line_error(capsys, _edit_argv(models, scene, tmp_path / "folder.tif",
                                             "--overwrite"))
    assert f"The output GeoTIFF {tmp_path / 'folder.tif'} is a folder" in line, line
    line = one_line_error(capsys, [*_edit_argv(models, scene, tmp_path / "o.tif"), "--window", 36])
    assert "`window`" in line and "36" in line and not (tmp_path / "o.tif").exists(), line
    assert main([str(a) for a in _edit_argv(models, scene, tmp_path / "new" / "o.tif")]) == 0
    assert sorted(os.listdir(tmp_path / "new")) == ["o.tif"]  # a missing folder is created


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder nobody may write into: a read-only tmpfs as root (where it can be mounted),
    else a folder without write permission."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
                      capture_output=True).returncode:
        pytest.skip("root cannot mount a read-only tmpfs here (root ignores permissions)")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_read_only_output_folder_is_one_line_error(read_only_dir, models, scene, capsys):
    for argv in (["export", "--generator", models / "mixlc.keras", "--legend",
                  models / "legend.json", "--task", "mixlc", "--image-size", SIZE,
                  "--out", read_only_dir / "e"],
                 _edit_argv(models, scene, read_only_dir / "o.tif"),
                 ["train", "--out", read_only_dir / "run"]):
        line = one_line_error(capsys, argv)
        assert "Cannot write into" in line and str(read_only_dir) in line, line
        assert ".tmp-" not in line  # the folder is named, not a hidden temporary file


def test_too_little_free_space_is_found_before_training(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("shutil.disk_usage", lambda path: type("U", (), {"free": 2**20})())
    line = one_line_error(capsys, ["train", "--image-size", 32, "--width", 4, "--out",
                                   tmp_path / "run", "--vgg-weights", "none"])
    assert "Not enough free space in" in line and "1.0 MB free" in line, line


def test_full_disk_during_an_export_leaves_no_partial_export(models, tmp_path, capsys):
    folder = tmp_path / "small_disk"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs",
                                            str(folder)], capture_output=True).returncode:
        pytest.skip("needs root with mount to make a small disk")
    try:
        line = one_line_error(capsys, ["export", "--generator", models / "mixlc.keras",
                                       "--legend", models / "legend.json", "--task", "mixlc",
                                       "--image-size", SIZE, "--out", folder / "e"])
        assert "No space left on device" in line or "space" in line.lower(), line
        assert os.listdir(folder) == []
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_outputs_follow_the_umask(umask, models, scene, tmp_path):
    old = os.umask(umask)
    try:
        export_generator(unet_generator(image_size=SIZE, num_classes=4, width=4),
                         tmp_path / "e", legend=LEGEND, task="mixlc", image_size=SIZE)
        assert main([str(a) for a in _edit_argv(models, scene, tmp_path / "o.tif")]) == 0
    finally:
        os.umask(old)
    folder_mode, file_mode = 0o777 & ~umask, 0o666 & ~umask
    assert os.stat(tmp_path / "e").st_mode & 0o777 == folder_mode
    assert os.stat(tmp_path / "e" / "lcgan_export.json").st_mode & 0o777 == file_mode
    assert os.stat(tmp_path / "e" / "generator.keras").st_mode & 0o777 == file_mode
    assert os.stat(tmp_path / "o.tif").st_mode & 0o777 == file_mode


def _dead_pid():
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_killed_export_keeps_the_old_one_and_its_debris_goes_next_time(models, tmp_path,
                                                                      capsys):
    export = tmp_path / "export"
    subprocess.run(["cp", "-r", str(models / "export"), str(export)], check=True)
    before = file_hashes(export)
    run_script(tmp_path, f"""
        import json
        from lcgan.data.legend import Legend
        from lcgan.scenes.export import export_generator, load_keras_generator

        json.dump = lambda *args, **kwargs: die()  # killed while writing the metadata
        export_generator(load_keras_generator({str(models / "mixlc.keras")!r}), {str(export)!r},
                         legend=Legend.from_json({str(models / "legend.json")!r}),
                         task="mixlc", image_size={SIZE}, overwrite=True)
    """, killed=True)
    assert file_hashes(export) == before
    left = [p for p in os.listdir(tmp_path) if p.startswith(".export.tmp-")]
    assert len(left) == 1
    export_generator(unet_generator(image_size=SIZE, num_classes=4, width=4), export,
                     legend=LEGEND, task="mixlc", image_size=SIZE, overwrite=True)
    assert f"removed {tmp_path / left[0]}" in capsys.readouterr().out
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".export.")]


def test_killed_edit_leaves_no_output_and_its_debris_goes_next_time(models, scene, tmp_path,
                                                                    capsys):
    out = tmp_path / "o.tif"
    run_script(tmp_path, f"""
        from lcgan.scenes import export, inference

        model = export.load_generator({str(models / "export")!r})
        calls = []
        def dying(**inputs):
            calls.append(1)
            if len(calls) == 3:
                die()
            return model(**inputs)
        dying.metadata = model.metadata
        inference.edit_scene(dying, {str(scene.rgb_path)!r}, {str(scene.edited_path)!r},
                             {str(out)!r}, original_landcover_path={str(scene.landcover_path)!r},
                             window={SIZE}, overlap=8, batch_size=1, progress=False)
    """, killed=True)
    left = [p for p in os.listdir(tmp_path) if p.startswith(".o.tif.tmp-")]
    assert not out.exists() and len(left) == 1
    (tmp_path / f".o.tif.tmp-{_dead_pid()}-{uuid.uuid4().hex[:8]}.tif").write_bytes(b"II*")
    assert main([str(a) for a in _edit_argv(models, scene, out)]) == 0
    assert capsys.readouterr().out.count("removed") == 2
    assert sorted(p for p in os.listdir(tmp_path) if "o.tif" in p) == ["o.tif"]


@pytest.mark.parametrize("present, expected", [
    ({"out": "new", ".out.tmp-DEAD-0000000a": "part"}, {"out": "new"}),
    ({".out.old-DEAD-0000000a": "old", ".out.tmp-DEAD-0000000b": "new"}, {"out": "new"}),
    ({".out.old-DEAD-0000000a": "old"}, {"out": "old"}),
    ({"out": "new", ".out.old-DEAD-0000000a": "old"}, {"out": "new"}),
    ({"out": "new", ".out.tmp-LIVE-0000000a": "busy"},
     {"out": "new", ".out.tmp-LIVE-0000000a": "busy"}),
], ids=["partial_temporary_removed", "replacement_cut_between_renames_finished",
        "old_put_back_when_the_new_one_never_came", "old_removed_after_a_replacement",
        "a_live_process_temporary_kept"])
def test_run_folder_opening_clears_the_debris_of_killed_writes(present, expected, tmp_path):
    from lcgan.training.config import TrainConfig
    from lcgan.training.run_folder import open_run_folder

    pids = {"DEAD": str(_dead_pid()), "LIVE": str(os.getppid())}

    def named(files):  # the pid placeholders replaced
        return {name.replace("DEAD", pids["DEAD"]).replace("LIVE", pids["LIVE"]): text
                for name, text in files.items()}

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(TrainConfig().to_dict()))
    for name, text in named(present).items():
        (run / name).write_text(text)
    open_run_folder(run, TrainConfig()).close()
    assert {p.name: p.read_text() for p in run.iterdir() if p.name != "config.json"} == named(
        expected)
