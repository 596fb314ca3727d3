"""The CUDA path. Skipped, with the reason, on machines without onnxruntime-gpu and a GPU."""

from __future__ import annotations

import importlib.util
import json
import warnings

import numpy as np
import pytest
from conftest import matched
from PIL import Image

from minface import Detector
from minface.cli import main as cli_main


def _cuda_available() -> bool:
    if importlib.util.find_spec("onnxruntime") is None:
        return False
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


pytestmark = pytest.mark.skipif(not _cuda_available(), reason="no CUDA: needs pip install 'minface[cuda]' and an NVIDIA GPU")


@pytest.fixture(scope="module")
def gpu() -> Detector:
    return Detector("balanced", device="cuda")


def test_session_really_runs_on_cuda(gpu):
    assert gpu.device == "cuda" and "CUDAExecutionProvider" in gpu.description and gpu.model == "fp32"


def test_gpu_finds_what_cpu_finds(gpu, crowd_scene, big_face_scene):
    cpu = Detector("balanced", device="cpu", model="fp32")
    for scene in (crowd_scene, big_face_scene):
        on_gpu, on_cpu = gpu(scene.image), cpu(scene.image)
        assert matched(scene.faces, on_gpu.xyxy).all()
        # same weights; cuDNN and the CPU kernels round differently, so a borderline box may differ
        assert abs(len(on_gpu) - len(on_cpu)) <= 1


def test_batch_equals_one_by_one_on_gpu(gpu, crowd_scene, big_face_scene):
    images = [crowd_scene.image, big_face_scene.image, crowd_scene.image[:, ::-1].copy()]
    images.append(crowd_scene.image[:-7, :-5].copy())  # pads to the same model input as the crowd: one call
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batched = gpu.detect_batch(images, batch=4)
    for im, got in zip(images, batched):
        alone = gpu(im)
        assert len(got) == len(alone)
        np.testing.assert_allclose(got.xyxy, alone.xyxy, atol=1.0)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_cli_scrub_on_cuda(tmp_path, crowd_scene, jobs, capfd):
    """One process, and two worker processes sharing the GPU: every file scrubbed, every face painted."""
    src, out, rep = tmp_path / "in", tmp_path / "out", tmp_path / "r.jsonl"
    src.mkdir()
    for i in range(5):
        Image.fromarray(crowd_scene.image).save(src / f"{i}.jpg", quality=95)
    argv = ["scrub", "-q", "--device", "cuda", "--batch", "4", "-j", jobs, str(src), "-o", str(out), "--report", str(rep)]
    assert cli_main(argv) == 0
    # batched detection must not have fallen back to one image at a time (workers' stderr included)
    assert "detection in batches failed" not in capfd.readouterr().err
    recs = [json.loads(line) for line in rep.read_text().splitlines()]
    assert [r["status"] for r in recs] == ["ok"] * 5
    assert all("CUDAExecutionProvider" in r["detector"] for r in recs)
    for r in recs:
        boxes = np.array([f["box"] for f in r["faces"]], np.float32).reshape(-1, 4)
        assert matched(crowd_scene.faces, boxes).all()
