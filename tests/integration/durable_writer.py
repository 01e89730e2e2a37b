"""Writes events as fast as it can and prints each acknowledged (patient, position) pair.
Started by the durability test, which kills it with SIGKILL mid-stream."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bootstrap import bootstrap
from bootstrap.settings import Settings
from tests.builders import THERAPIST, act, ago, register_with_team

settings = Settings.model_validate_json(os.environ["TANDEM_SETTINGS_JSON"])
clinic = bootstrap(settings)
patient = register_with_team(clinic).aggregate_id
while True:
    receipt = act(
        clinic,
        patient,
        lambda r: r.write_progress_note(THERAPIST, ago(minutes=1), text=f"note {uuid.uuid4()}"),
    )
    print(json.dumps([str(patient), receipt.position]), flush=True)
