from __future__ import annotations

import dataclasses
import importlib.util

import cv2
import numpy as np
import pytest
from conftest import STORE_FOR_ORIENTATION, background, jpeg_bytes, matched, paste_faces

import minface
from minface import Detector, Faces, detect
from minface.detect import PRESETS, multiscale, runtimes
from minface.errors import BackendError, MissingDependencyError, ModelIntegrityError

HAS_ORT = importlib.util.find_spec("onnxruntime") is not None


@pytest.fixture(scope="module")
def balanced() -> Detector:
    return Detector("balanced")


def test_every_pasted_face_is_found(crowd_scene, big_face_scene, balanced):
    for scene in (crowd_scene, big_face_scene):
        faces = balanced(scene.image)
        assert isinstance(faces, Faces)
        assert faces.image_size == (scene.image.shape[1], scene.image.shape[0])
        hit = matched(scene.faces, faces.xyxy)
        assert hit.all(), f"missed faces {scene.faces[~hit].tolist()}, found {faces.xyxy.tolist()}"
        # nothing else: every detection is one of the pasted faces
        assert len(faces) == len(scene.faces)
        assert faces.landmarks is not None and faces.landmarks.shape == (len(faces), 5, 2)


def test_landmarks_sit_on_the_face(big_face_scene, balanced):
    faces = balanced(big_face_scene.image)
    (x1, y1, x2, y2), lm = faces.xyxy[0], faces.landmarks[0]
    assert ((lm[:, 0] > x1) & (lm[:, 0] < x2) & (lm[:, 1] > y1) & (lm[:, 1] < y2)).all()
    right_eye, left_eye, nose, mouth_r, mouth_l = lm
    assert right_eye[0] < left_eye[0] and mouth_r[0] < mouth_l[0]  # image left to right
    assert max(right_eye[1], left_eye[1]) < nose[1] < min(mouth_r[1], mouth_l[1])


@pytest.mark.parametrize("preset", ["fast", "thorough"])
def test_other_presets_find_the_faces_they_promise(preset, crowd_scene):
    d = Detector(preset)
    truth = crowd_scene.faces
    sizes = truth[:, 3] - truth[:, 1]
    hit = matched(truth, d(crowd_scene.image).xyxy)
    assert hit[sizes >= 1.5 * d.min_face].all()  # comfortably above the preset's smallest face


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_rotated_phone_photo_is_searched_upright(orientation, tmp_path, balanced):
    scene = paste_faces(background("chelsea", 520, 400), [(60, 50, 70), (300, 120, 110)])
    stored = np.ascontiguousarray(STORE_FOR_ORIENTATION[orientation](scene.image))
    path = tmp_path / f"o{orientation}.jpg"
    path.write_bytes(jpeg_bytes(stored, orientation=orientation))
    faces = balanced(path)
    assert faces.image_size == (520, 400)
    assert matched(scene.faces, faces.xyxy, min_iou=0.5).all()
    assert len(faces) == 2


@pytest.mark.parametrize("name", ["noise", "flat", "grass", "brick", "gravel"])
@pytest.mark.parametrize("preset", ["fast", "balanced"])
def test_no_faces_in_faceless_images(name, preset):
    assert len(detect(background(name, 480, 360), preset=preset)) == 0


def test_thorough_on_noise():
    assert len(detect(background("noise", 320, 240), preset="thorough")) == 0


def test_tiny_and_odd_shaped_images():
    for shape in [(1, 1, 3), (7, 300, 3), (300, 7, 3), (33, 65, 3)]:
        assert len(detect(np.full(shape, 90, np.uint8), preset="fast")) == 0


def test_opencv_runs_the_reference_weights_and_says_so():
    d = Detector("fast", backend="opencv")
    assert d.model == "fp32" and d.description.startswith("centerface/opencv")


def test_detector_records_what_ran(balanced):
    f = balanced(np.zeros((40, 40, 3), np.uint8))
    assert f.detector == balanced.description
    assert balanced.backend in runtimes.BACKENDS and balanced.device == "cpu"
    assert "balanced" in f.detector and "centerface" in f.detector


@pytest.mark.skipif(not HAS_ORT, reason="onnxruntime not installed")
def test_runtimes_agree(crowd_scene):
    a = Detector("fast", backend="onnxruntime", model="fp32")(crowd_scene.image)
    b = Detector("fast", backend="opencv")(crowd_scene.image)
    assert a.detector.split("/")[1].startswith("onnxruntime") and b.detector.split("/")[1].startswith("opencv")
    assert len(a) == len(b)
    order = np.argsort(a.xyxy[:, 0]), np.argsort(b.xyxy[:, 0])
    np.testing.assert_allclose(a.xyxy[order[0]], b.xyxy[order[1]], atol=1.5)
    np.testing.assert_allclose(a.scores[order[0]], b.scores[order[1]], atol=0.03)


def test_min_face_chooses_the_scales():
    p = PRESETS["balanced"]
    plan = lambda mf: multiscale.plan_passes(4000, 3000, min_face=mf, max_scale=p.max_scale, flips="none", trust_max=320)  # noqa: E731
    assert [q.focus for q in multiscale.plan_passes(800, 600, min_face=8, max_scale=2, flips="none", trust_max=320, cascade=True)] == [True, False, False]
    assert [q.scale for q in plan(8)] == [2.0, 1.0, 0.5, 0.25, 0.125]
    assert [q.scale for q in plan(64)] == [0.25, 0.125]
    assert [q.scale for q in plan(2)] == [2.0, 1.0, 0.5, 0.25, 0.125]  # capped by the preset
    small = multiscale.plan_passes(640, 400, min_face=8, max_scale=2, flips="low", trust_max=320)
    assert [(q.scale, q.flip) for q in small] == [(2.0, False), (1.0, False), (1.0, True)]
    assert small[-1].hi == np.inf and small[0].lo == multiscale.TINY


def test_tiles_cover_every_face_whole_exactly_once():
    rng = np.random.default_rng(0)
    for length, scale, tile, overlap in [(5000, 2.0, 1600, 320), (3000, 1.0, 1000, 200), (700, 3.0, 900, 300)]:
        windows = multiscale._tiles(length, scale, tile, overlap)
        assert windows[0][0] == 0 and windows[-1][1] == length
        assert all((stop - start) * scale <= tile + 1 for start, stop, _, _ in windows)
        for _ in range(500):
            size = rng.uniform(1, overlap / scale)
            c = rng.uniform(size / 2, length - size / 2)
            owners = [w for w in windows if w[2] <= c < w[3]]
            assert len(owners) == 1
            start, stop, _, _ = owners[0]
            assert start <= c - size / 2 + 1e-6 and c + size / 2 <= stop + 1e-6


def test_a_pass_that_fits_one_tiles_area_is_read_whole():
    p = multiscale.Pass(1.0, False, 12.0, 320.0)
    # a 1 MP portrait at 1x: one window (two tiles of 1024 px would read 320 rows twice)
    assert multiscale.full_windows(848, 1179, p, 1024) == [(0, 0, 848, 1179, -np.inf, -np.inf, np.inf, np.inf)]
    # more than the area, or a side over twice the tile: tiles as before, each within tile_size a side
    for w, h in ((1100, 1179), (2100, 300)):
        windows = multiscale.full_windows(w, h, p, 1024)
        assert len(windows) > 1
        assert all(x1 - x0 <= 1024 + 1 and y1 - y0 <= 1024 + 1 for x0, y0, x1, y1, *_ in windows)
    assert len(multiscale.full_windows(848, 1179, multiscale.Pass(2.0, False, 8.0, 64.0), 1024)) > 1
    assert len(multiscale.full_windows(848, 1300, multiscale.Pass(1.0, False, 12.0, np.inf), 1024)) > 1  # the lowest


def test_tiled_search_equals_whole_image_search(crowd_scene):
    whole = Detector("fast", tile_size=4096, turned=False)(crowd_scene.image)
    tiled = Detector("fast", tile_size=512, turned=False)(crowd_scene.image)
    # the same confident faces, in the same places (scores near the threshold may differ a little,
    # because each tile is padded and resized on its own)
    for a, b in ((whole, tiled), (tiled, whole)):
        assert matched(a[a.scores > 0.5].xyxy, b.xyxy, min_iou=0.8).all()
    assert matched(crowd_scene.faces, tiled.xyxy).sum() >= 6


def test_threshold_and_min_face_options(crowd_scene):
    strict = Detector("fast", threshold=0.8)(crowd_scene.image)
    assert len(strict) >= 1 and (strict.scores >= 0.8).all()
    assert Detector("fast", min_face=64).min_face == 64


@pytest.mark.parametrize(
    "kwargs, exc, msg",
    [
        ({"preset": "turbo"}, ValueError, "unknown preset"),
        ({"min_face": 0}, ValueError, "min_face"),
        ({"threshold": 1.5}, ValueError, "threshold"),
        ({"backend": "tensorflow"}, ValueError, "unknown backend"),
        ({"device": "tpu"}, ValueError, "unknown device"),
        ({"backend": "opencv", "device": "cuda"}, BackendError, "onnxruntime"),
        ({"backend": "opencv", "model": "int8"}, BackendError, "int8 model needs"),
        ({"model": "fp16"}, ValueError, "unknown model"),
    ],
)
def test_bad_options(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        Detector(**kwargs)


@pytest.mark.skipif(not HAS_ORT, reason="onnxruntime not installed")
def test_cuda_request_never_falls_back_to_cpu():
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("a CUDA provider is present; covered by the GPU tests")
    with pytest.raises(BackendError, match="CUDAExecutionProvider"):
        Detector(device="cuda")


def test_missing_openvino_gives_install_hint(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "openvino" else real_find_spec(n, *a))
    assert "openvino" not in runtimes.available_backends()
    assert runtimes.resolve_backend("auto") != "openvino"
    monkeypatch.setitem(__import__("sys").modules, "openvino", None)  # import fails
    monkeypatch.setattr(runtimes, "_cache", {})
    with pytest.raises(MissingDependencyError, match=r"pip install 'minface\[openvino\]'"):
        Detector(backend="openvino")


def test_missing_onnxruntime_gives_install_hint(monkeypatch):
    real_find_spec = importlib.util.find_spec
    missing = ("onnxruntime", "openvino")
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n in missing else real_find_spec(n, *a))
    assert runtimes.available_backends() == ["opencv"]
    assert runtimes.resolve_backend("auto") == "opencv"
    monkeypatch.setitem(__import__("sys").modules, "onnxruntime", None)  # import fails
    monkeypatch.setattr(runtimes, "_cache", {})
    with pytest.raises(MissingDependencyError, match=r"pip install 'minface\[ort\]'"):
        Detector(backend="onnxruntime")


@pytest.mark.parametrize("model", ["fp32", "yunet"])
def test_tampered_model_is_refused(monkeypatch, model):
    """A model file that is not the one pinned (a wrong checksum) is refused with a clear error."""
    import dataclasses

    spec = runtimes.MODELS[model]
    monkeypatch.setitem(runtimes.MODELS, model, dataclasses.replace(spec, sha256="0" * 64))
    runtimes.model_bytes.cache_clear()
    try:
        with pytest.raises(ModelIntegrityError, match=rf"{spec.file} has sha256 {spec.sha256}, expected 0{{64}}"):
            runtimes.model_bytes(model)
    finally:
        monkeypatch.undo()
        runtimes.model_bytes.cache_clear()


def test_bundled_models_verify():
    sizes = {name: len(runtimes.model_bytes(name)) for name in runtimes.MODELS}
    assert sizes["fp32"] > 1_000_000 and sizes["int8"] > 1_000_000
    assert 200_000 < sizes["yunet"] < 300_000  # the 2023mar file is 232,589 bytes, made dynamic


def test_detect_accepts_files_and_reuses_detectors(tmp_path, crowd_scene):
    path = tmp_path / "scene.jpg"
    path.write_bytes(jpeg_bytes(crowd_scene.image))
    a = detect(path, preset="fast")
    b = detect(path.read_bytes(), preset="fast")
    np.testing.assert_allclose(a.xyxy, b.xyxy)
    assert minface.detect is detect


def test_focus_windows_cover_every_mark_once():
    rng = np.random.default_rng(1)
    p = multiscale.Pass(2.0, False, multiscale.TINY, multiscale.FOCUS_MAX, focus=True)
    w, h = 1500, 1000
    marks = np.concatenate([rng.uniform(0, [w, h], (40, 2)), rng.uniform([100, 100], [500, 300], (200, 2))])
    radius = 24.0
    windows = multiscale.focus_windows(w, h, p, marks, radius, tile_size=1024)
    keep = [(kx0, ky0, kx1, ky1) for *_, kx0, ky0, kx1, ky1 in windows]
    for x, y in marks:  # the square around every mark lies in the kept cells
        for px, py in [(x - radius, y - radius), (x + radius, y + radius), (x, y)]:
            px, py = min(max(px, 0), w - 1), min(max(py, 0), h - 1)
            assert sum(k[0] <= px < k[2] and k[1] <= py < k[3] for k in keep) == 1
    for x0, y0, x1, y1, kx0, ky0, kx1, ky1 in windows:
        assert (x1 - x0) * p.scale <= 1024 + 1 and (y1 - y0) * p.scale <= 1024 + 1
        margin = p.hi / p.scale  # every trusted face centred in the kept cells is read whole
        assert x0 <= max(0, kx0 - margin) + 1 and x1 >= min(w, kx1 + margin) - 1
    area = sum((k[2] - k[0]) * (k[3] - k[1]) for k in keep)
    assert area < 0.5 * w * h  # focused: far less than the whole image
    assert multiscale.focus_windows(w, h, p, np.zeros((0, 2)), radius, 1024) == []


def test_cascade_finds_what_the_full_search_finds(crowd_scene, monkeypatch):
    import dataclasses

    assert PRESETS["balanced"].cascade
    cascaded = Detector("balanced")(crowd_scene.image)
    monkeypatch.setitem(PRESETS, "balanced", dataclasses.replace(PRESETS["balanced"], cascade=False))
    full = Detector("balanced")(crowd_scene.image)
    assert len(full) == len(cascaded) == len(crowd_scene.faces)
    assert matched(full.xyxy, cascaded.xyxy, min_iou=0.8).all()


@pytest.mark.parametrize("preset", ["fast", "balanced"])
def test_batched_detection_equals_one_by_one(preset, crowd_scene):
    d = Detector(preset)
    other = paste_faces(background("rocket", 1100, 760), [(100, 100, 60), (600, 300, 120)]).image
    small = paste_faces(background("chelsea", 500, 400), [(80, 60, 90)]).image
    # tiles of different sizes that pad to the same model input (640x480 and 630x470) share a call
    near = [paste_faces(background("coffee", w, h), [(200, 150, 70)]).image for w, h in ((640, 480), (630, 470))]
    images = [crowd_scene.image, other, small, crowd_scene.image[:, ::-1].copy(), *near]
    together = d.detect_batch(images, batch=4)
    for image, faces in zip(images, together):
        alone = d(image)
        assert len(faces) == len(alone)
        np.testing.assert_allclose(faces.xyxy, alone.xyxy, atol=0.5)
        np.testing.assert_allclose(faces.scores, alone.scores, atol=2e-3)
    with pytest.raises(ValueError, match="batch"):
        d.detect_batch(images, batch=0)


@pytest.mark.skipif("onnxruntime" not in runtimes.available_backends(), reason="onnxruntime not installed")
def test_gpu_style_inputs_find_the_same_faces(crowd_scene):
    """The CUDA input plan, run on the CPU: inputs padded to a few shapes, fixed batches, a session per shape."""
    from minface.detect.runtimes import GPU_SHAPE_STEP, _OrtRuntime

    plain = Detector("balanced", model="fp32", threads=1)
    bucketed = Detector("balanced", model="fp32", threads=1)
    runtime = _OrtRuntime("fp32", "cpu", 1, per_shape=True)
    seen = []

    def infer(blob):
        seen.append(blob.shape)
        return runtime(blob)

    infer.layout, infer.shape_step, infer.fixed_batch = runtime.layout, runtime.shape_step, runtime.fixed_batch
    bucketed._runtimes = {"centerface": infer}
    other = paste_faces(background("rocket", 900, 700), [(100, 100, 60), (500, 300, 120)]).image
    images = [crowd_scene.image, other, crowd_scene.image[:-40, :-70].copy()]
    got = bucketed.detect_batch(images, batch=3)
    assert seen and all(s[0] == 3 and s[1] % GPU_SHAPE_STEP == 0 and s[2] % GPU_SHAPE_STEP == 0 for s in seen)
    assert set(runtime._sessions) == set(seen)  # one session per input shape
    for image, faces in zip(images, got):
        want = plain(image)
        assert len(faces) == len(want)
        assert matched(want.xyxy, faces.xyxy, min_iou=0.9).all()


# -- photos that lost their orientation tag, tilted faces, the second detector ----------------


def _turned_truth(faces: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    from minface.detect.orientation import to_turned

    corners = to_turned(faces.reshape(-1, 2, 2), k, width, height)
    return np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_photo_turned_without_a_tag_every_face_found(balanced, name, k):
    """Stored turned by 90, 180 or 270 degrees, no orientation tag: every face, in stored coordinates."""
    rng = np.random.default_rng(len(name))  # six faces of 24-70 px, one per cell of a 3x2 grid
    places = [(60 + 250 * (i % 3) + int(rng.integers(0, 80)), 60 + 260 * (i // 3) + int(rng.integers(0, 80)), int(rng.integers(24, 70))) for i in range(6)]
    scene = paste_faces(background(name, 800, 560), places)
    stored = np.ascontiguousarray(np.rot90(scene.image, k))
    truth = _turned_truth(scene.faces, k, 800, 560)
    faces = balanced(stored)
    assert faces.image_size == (stored.shape[1], stored.shape[0])
    assert matched(truth, faces.xyxy, min_iou=0.4).all(), (truth.tolist(), faces.xyxy.tolist())
    # the landmarks are in stored coordinates too: inside their boxes
    lm = faces.landmarks
    inside = (lm[..., 0] >= faces.xyxy[:, None, 0] - 2) & (lm[..., 0] <= faces.xyxy[:, None, 2] + 2)
    inside &= (lm[..., 1] >= faces.xyxy[:, None, 1] - 2) & (lm[..., 1] <= faces.xyxy[:, None, 3] + 2)
    assert inside.all()


def test_turned_search_finds_what_the_upright_search_misses(balanced):
    """Small faces turned upside down: the search as stored loses them, the search in four orientations does not."""
    scene = paste_faces(background("coffee", 800, 560), [(120, 120, 40), (420, 200, 34), (620, 380, 44), (250, 420, 30)])
    stored = np.ascontiguousarray(np.rot90(scene.image, 2))
    truth = _turned_truth(scene.faces, 2, 800, 560)
    assert matched(truth, Detector("balanced", turned=False)(stored).xyxy).sum() < len(truth)
    assert matched(truth, balanced(stored).xyxy).all()


@pytest.mark.parametrize("angle", [30, -30, 45, -45])
def test_tilted_faces_are_found(balanced, angle):
    """Faces tilted between two of the four orientations: each detected where it is."""
    scene = paste_faces(background("coffee", 900, 640), [(300, 200, 56), (460, 260, 70), (560, 360, 60), (330, 380, 50)])
    centres = (scene.faces[:, :2] + scene.faces[:, 2:]) / 2
    m = cv2.getRotationMatrix2D((450, 320), angle, 1.0)
    image = cv2.warpAffine(scene.image, m, (900, 640), borderMode=cv2.BORDER_REFLECT)
    faces = balanced(image)
    for x, y in np.c_[centres, np.ones(len(centres))] @ m.T:
        hit = (faces.xyxy[:, 0] <= x) & (x <= faces.xyxy[:, 2]) & (faces.xyxy[:, 1] <= y) & (y <= faces.xyxy[:, 3])
        assert hit.any(), (angle, (x, y), faces.xyxy.tolist())


@pytest.mark.parametrize("backend", ["onnxruntime", "opencv"])
def test_both_detectors_find_every_easy_pasted_face(crowd_scene, big_face_scene, backend):
    """CenterFace and YuNet each find every pasted face of 24 px and more, on both runtimes."""
    if backend == "onnxruntime" and not HAS_ORT:
        pytest.skip("onnxruntime not installed")
    yunet = {"yunet": runtimes.get_runtime(backend, model="yunet", threads=1)}
    centerface = Detector("balanced", backend=backend)
    for scene in (crowd_scene, big_face_scene):
        easy = scene.faces[(scene.faces[:, 3] - scene.faces[:, 1]) >= 24]
        found = multiscale.search(scene.image, [multiscale.Pass(1.0, False, 8, np.inf, model="yunet")], yunet, 1024)[0]
        strong = found.boxes[found.scores >= 0.6]
        assert matched(easy, strong, min_iou=0.4).all(), (easy.tolist(), strong.tolist())
        assert matched(easy, centerface(scene.image).xyxy).all()


HAS_OPENVINO = importlib.util.find_spec("openvino") is not None


@pytest.mark.skipif(not (HAS_OPENVINO and HAS_ORT), reason="openvino or onnxruntime not installed")
@pytest.mark.parametrize("model", ["fp32", "int8"])
def test_openvino_finds_the_faces_onnxruntime_finds(crowd_scene, big_face_scene, model):
    """Parity: OpenVINO and ONNX Runtime find the same astronaut faces (IoU >= 0.5 both ways)."""
    ov = Detector("balanced", backend="openvino", model=model, threads=1)
    ort = Detector("balanced", backend="onnxruntime", model=model, threads=1)
    assert ov.description.startswith("centerface") and "openvino" in ov.description
    for scene in (crowd_scene, big_face_scene):
        a, b = ov(scene.image), ort(scene.image)
        assert len(a) and matched(b.xyxy, a.xyxy, min_iou=0.5).all() and matched(a.xyxy, b.xyxy, min_iou=0.5).all()
        assert matched(scene.faces, a.xyxy).all()


def _openvino_runtime(model: str):
    """A fresh OpenVINO runtime of a bundled model, one thread (not the shared one of get_runtime)."""
    from minface.detect import _openvino
    from minface.detect.runtimes import MODELS, PIXEL_INPUT, model_bytes

    return _openvino.OpenVinoRuntime(MODELS[model], model_bytes(model), PIXEL_INPUT, 1)


@pytest.mark.skipif(not HAS_OPENVINO, reason="openvino not installed")
def test_openvino_compiles_repeated_shapes_and_keeps_a_few(monkeypatch):
    """A shape seen STATIC_AFTER times gets its own compiled model, the same outputs; at most MAX_SHAPES are kept."""
    from minface.detect import _openvino

    monkeypatch.setattr(_openvino, "MAX_SHAPES", 2)
    run = _openvino_runtime("fp32")
    rng = np.random.default_rng(0)
    blob = rng.integers(0, 255, (1, 64, 96, 3), dtype=np.uint8)
    first = run(blob)
    for _ in range(_openvino.STATIC_AFTER - 1):
        again = run(blob)
    assert run.shapes() == [blob.shape]
    for x, y in zip(first, again):
        np.testing.assert_allclose(x, y, atol=1e-3)
    for h in (32, 96, 128):
        for _ in range(_openvino.STATIC_AFTER):
            run(rng.integers(0, 255, (1, h, 64, 3), dtype=np.uint8))
    assert run.shapes() == [(1, 96, 64, 3), (1, 128, 64, 3)]


@pytest.mark.skipif(not HAS_OPENVINO, reason="openvino not installed")
def test_openvino_runs_int8_on_int8_kernels():
    """The int8 model's convolutions run at 8 bits (all but the first, which takes the pixels), not dequantized."""
    kinds = _openvino_runtime("int8").layer_precisions()
    eight = sum(n for (_, p), n in kinds.items() if p in ("u8", "i8"))
    assert eight >= sum(kinds.values()) - 1 and eight > 50, kinds
    assert all(p == "f32" for (_, p) in _openvino_runtime("fp32").layer_precisions())


def test_fuse_floor_changes_nothing_above_it():
    """Clusters left out for lack of a strong member never had a consensus at or above the floor."""
    from minface.detect.fuse import fuse
    from minface.detect.multiscale import Pass, PassResult

    rng = np.random.default_rng(3)
    passes = [Pass(0.5, False, 0, 1e9), Pass(1.0, False, 0, 1e9)]
    results = []
    for _ in passes:
        xy = rng.uniform(0, 900, (300, 2)).astype(np.float32)
        wh = rng.uniform(8, 80, (300, 1)).astype(np.float32)
        boxes = np.concatenate([xy, xy + wh], axis=1)
        scores = rng.beta(0.5, 4, 300).astype(np.float32)  # mostly faint, a few strong
        results.append(PassResult(boxes, scores, np.zeros((300, 5, 2), np.float32), np.zeros((0, 2), np.float32), 0, 0.0))
    for floor in (0.1, 0.3, 0.6):
        b0, s0, _ = fuse(results, passes, "mean")
        b1, s1, _ = fuse(results, passes, "mean", floor)
        assert len(b1) < len(b0)
        np.testing.assert_array_equal(b0[s0 >= floor], b1[s1 >= floor])
        np.testing.assert_array_equal(s0[s0 >= floor], s1[s1 >= floor])


def test_turned_passes_share_resized_crops_with_identical_results(monkeypatch):
    """The vote's four orientations resize the photo once; what the search finds does not change."""
    from minface.detect.multiscale import Pass, search

    image = np.random.default_rng(0).integers(0, 255, (300, 400, 3), np.uint8)
    image[100:160, 150:200] = 255  # a bright patch the fake model scores as a face
    passes = [Pass(0.5, False, 0, 1e9, rot=r) for r in range(4)]

    def infer(blob):  # a heatmap peaking where the tile is brightest, so results depend on the pixels
        n, h, w = blob.shape[0], blob.shape[-2] // 4, blob.shape[-1] // 4
        small = blob.reshape(n, 3, h, 4, w, 4).mean(axis=(1, 3, 5)) / 255.0
        hm = (small ** 4)[:, None].astype(np.float32)
        scale = np.full((n, 2, h, w), 2.0, np.float32)
        return hm, scale, np.zeros((n, 2, h, w), np.float32), np.zeros((n, 10, h, w), np.float32)

    calls = []
    real = multiscale.cv2.resize
    monkeypatch.setattr(multiscale.cv2, "resize", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    shared = search(image, passes, infer, tile_size=1024)
    assert len(calls) == 1
    monkeypatch.setattr(multiscale._ResizeMemo, "get", lambda self, key: None)
    alone = search(image, passes, infer, tile_size=1024)
    assert len(calls) == 5
    assert sum(len(r.scores) for r in shared) > 0
    for a, b in zip(shared, alone):
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.scores, b.scores)


def test_at_least_reads_only_the_scales_large_faces_need(balanced):
    """A quick look for large faces: the lowest scales only, the large face found as well, the small ones not sought."""
    scene = paste_faces(background("coffee", 1000, 800), [(100, 100, 300), (600, 500, 20)])
    full = balanced(scene.image, turned=False)
    full_mp = balanced.last_timings["input_megapixels"]
    quick = balanced(scene.image, turned=False, at_least=64)
    quick_mp = balanced.last_timings["input_megapixels"]
    assert matched(scene.faces, full.xyxy).all()
    assert matched(scene.faces[:1], quick.xyxy).all() and not matched(scene.faces[1:], quick.xyxy).any()
    assert quick_mp < 0.3 * full_mp
    plan = balanced._plan(scene.image)
    assert {q.scale for q in balanced._plan(scene.image, at_least=64)} == {min(q.scale for q in plan)}
    assert balanced._plan(scene.image, at_least=1) == plan  # a face of one pixel needs every scale
    with pytest.raises(ValueError, match="at_least"):
        balanced(scene.image, at_least=0)


def _looks_with_a_faint_large_face(elsewhere: float, regular: np.ndarray | None = None) -> list:
    """The four orientations of a search in which the stored one (not favoured by the vote) saw a
    200 px face at 0.1 in both its passes, and the vote pass of orientation 3 saw the same place at
    ``elsewhere``; ``regular``, a face orientation 1 (the favoured one) kept on its own merits."""
    from minface.detect.detector import Look
    from minface.detect.multiscale import Pass, PassResult

    def result(boxes, score):
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        n = len(boxes)
        return PassResult(boxes, np.full(n, score, np.float32), np.zeros((n, 5, 2), np.float32), np.zeros((0, 2)), 0, 0.0)

    face = [[300, 200, 500, 400]]
    low = Pass(0.5, False, 12, np.inf)
    stored = [Pass(1.0, False, 12, 320), low]
    looks = [Look(0, stored, [result(face, 0.1), result(face, 0.1)], 1, result(face, 0.1), 1.5)]
    votes = {1: result(regular if regular is not None else [], 0.9), 2: result([], 0.0), 3: result(face, elsewhere)}
    for k in (1, 2, 3):
        vote = Pass(0.5, False, 12, np.inf, rot=k)
        looks.append(Look(k, [vote], [votes[k]], 2 if k == 1 else 0, votes[k], 1.0 if k == 1 else 1.5))
    return looks


def test_large_faint_face_kept_when_another_orientation_agrees(balanced):
    """A large face only the stricter thresholds of an orientation the vote did not favour would
    drop (a face lying on its side, in profile) is kept when another orientation saw it too."""
    image = np.zeros((600, 800, 3), np.uint8)
    assert PRESETS["balanced"].agree_score > 0
    kept = balanced._finish(image, _looks_with_a_faint_large_face(0.45), {})
    assert len(kept) == 1 and matched(np.array([[300, 200, 500, 400]]), kept.xyxy).all()
    assert len(balanced._finish(image, _looks_with_a_faint_large_face(0.2), {})) == 0  # no agreement: dropped
    plain = Detector.__new__(Detector)
    plain.__dict__.update(balanced.__dict__)
    plain.preset = dataclasses.replace(PRESETS["balanced"], agree_score=0.0)
    assert len(plain._finish(image, _looks_with_a_faint_large_face(0.45), {})) == 0  # the rule off


def test_agreed_face_never_replaces_a_face_kept_on_its_merits(balanced):
    """A face kept on its own merits keeps its box; the agreed one (whose centre lies in it) merges into it."""
    image = np.zeros((600, 800, 3), np.uint8)
    regular = np.array([[310, 190, 520, 420]], np.float32)
    faces = balanced._finish(image, _looks_with_a_faint_large_face(0.45, regular), {})
    assert len(faces) == 1
    np.testing.assert_allclose(faces.xyxy[0], regular[0])
