"""Measure ID photos with MediaPipe's face mesh, a detector independent of minface's; one JSON line each.

This file runs inside a virtual environment with ``mediapipe==0.10.21`` (which
depends on ``opencv-contrib-python``, so it must not share an environment with
minface's ``opencv-python-headless``). It imports nothing from minface.

    /path/to/mediapipe-venv/bin/python benchmarks/idphoto_judge.py PHOTO...

Each line: ``{"image": path, "found": bool, "chin": [x, y], "eyes": [x, y],
"face_centre_x": x, "yaw": deg}`` in pixels of the photo: the chin is mesh
point 152, the eye centre the midpoint of the two irises (468, 473), the face
centre the midpoint of the cheek points 234 and 454, and ``yaw`` the mesh's own
head turn (the depth difference of the cheek points over their distance).
"""

from __future__ import annotations

import argparse
import json
import math
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+")
    args = parser.parse_args()

    import cv2
    import mediapipe as mp

    mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True)
    for path in args.images:
        bgr = cv2.imread(path)
        record: dict = {"image": path, "found": False}
        if bgr is not None:
            h, w = bgr.shape[:2]
            res = mesh.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if res.multi_face_landmarks:
                lm = res.multi_face_landmarks[0].landmark
                p = lambda i: (lm[i].x * w, lm[i].y * h, lm[i].z * w)  # noqa: E731
                chin, r_iris, l_iris, r_cheek, l_cheek = p(152), p(468), p(473), p(234), p(454)
                across = math.hypot(l_cheek[0] - r_cheek[0], l_cheek[1] - r_cheek[1])
                record.update(
                    found=True,
                    chin=[round(chin[0], 2), round(chin[1], 2)],
                    eyes=[round((r_iris[0] + l_iris[0]) / 2, 2), round((r_iris[1] + l_iris[1]) / 2, 2)],
                    face_centre_x=round((r_cheek[0] + l_cheek[0]) / 2, 2),
                    yaw=round(math.degrees(math.atan2(l_cheek[2] - r_cheek[2], across)), 1),
                )
        print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
