#!/usr/bin/env bash
# Deployment step: publish a new release folder on ImageKit and block until it is live.
#
#   IMAGEKIT_PRIVATE_KEY=... ./examples/deploy.sh v41
#
# imagekit-jobs exits 0 when every job Completed, 1 on a job or API error, 2 on a usage
# error, 124 if the job is still running at the deadline, 130 if interrupted.
set -euo pipefail

release="${1:?usage: deploy.sh RELEASE}"

# Copy the release into place and wait at most 15 minutes for ImageKit to finish.
if imagekit-jobs copy-folder "/releases/${release}" "/live" --timeout 900 --json > copy.json; then
    echo "release ${release} is live: $(cat copy.json)"
else
    status=$?
    case "$status" in
        124) echo "ImageKit is still copying after 15 minutes; job: $(cat copy.json)" >&2 ;;
        *)   echo "copy failed (exit ${status}): $(cat copy.json)" >&2 ;;
    esac
    exit "$status"
fi
