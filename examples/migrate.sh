#!/usr/bin/env bash
# Move many folders from a CSV, with a journal that survives a crash or a reboot.
#
#   IMAGEKIT_PRIVATE_KEY=... ./examples/migrate.sh examples/migrate.csv
#
# If the run is interrupted (Ctrl-C, kill -9, a lost machine), run the same command again:
# it resumes from the journal, submitting what was never sent and waiting on the rest.
set -euo pipefail

csv="${1:?usage: migrate.sh FILE.csv}"
journal="${JOURNAL:-migration.journal}"

if [ -e "$journal" ]; then
    imagekit-jobs resume "$journal" --timeout 7200
else
    imagekit-jobs move-folder --from-csv "$csv" --journal "$journal" --timeout 7200
fi
imagekit-jobs journal "$journal"
