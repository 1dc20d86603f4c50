#!/usr/bin/env bash
# Makes media/sample.mp4: 20 s, 640x360 H.264 (Main, B-frames, keyframe every second, 25 fps)
# + AAC-LC stereo 48 kHz, under 3 MB. Deterministic input (ffmpeg's lavfi test sources).
set -euo pipefail
cd "$(dirname "$0")"
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=640x360:rate=25:duration=20" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=20,aformat=channel_layouts=stereo" \
  -map 0:v -map 1:a \
  -c:v libx264 -profile:v main -preset medium -b:v 800k -maxrate 1000k -bufsize 1000k \
  -bf 2 -g 25 -keyint_min 25 -sc_threshold 0 -pix_fmt yuv420p \
  -c:a aac -b:a 96k -ac 2 \
  -movflags +faststart -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
  sample.mp4
ls -l sample.mp4
