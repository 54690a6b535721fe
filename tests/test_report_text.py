"""The report's text (report/*.rst, Jinja templates Snakemake renders with the run's config)
describes the run it reports: the VAD, packing, backend, model, precision and device."""

from __future__ import annotations

from types import SimpleNamespace

import jinja2
import pytest
from docutils.core import publish_parts
from support.workflow import REPO

from firescribe.settings import default_config


def rendered(name: str, **given) -> str:
    """``report/{name}.rst`` as Snakemake renders it for a run of ``given`` config; it must
    also be valid reStructuredText (an error stops the report)."""
    text = jinja2.Environment().from_string((REPO / "report" / f"{name}.rst").read_text(encoding="utf-8"))
    out = text.render(snakemake=SimpleNamespace(config=default_config(input="media", **given)))
    publish_parts(out, writer_name="html", settings_overrides={"report_level": 2, "halt_level": 2})
    return " ".join(out.split())


def test_the_defaults():
    text = rendered("workflow")
    assert "silero-vad" in text and "FireRedVAD" not in text
    assert "packing off" in text and "packed together" not in text
    assert "faster-whisper, model ``bundled:tiny.en``, compute type ``int8``" in text and "device ``cpu``" in text
    assert "several to a model input" not in rendered("rtf")


def test_another_run():
    given = dict(backend="fireredasr-aed", vad={"model": "fireredvad", "fireredvad": {"events": True}},
                 plan={"pack_files": True}, asr={"device": "cuda"}, fireredasr_aed={"precision": "fp16"})
    text = rendered("workflow", **given)
    assert "FireRedVAD" in text and "event model" in text and "silero" not in text
    assert "packed together" in text and "packing off" not in text
    assert "FireRedASR-AED, model ``models/FireRedASR-AED-L``" in text and "precision ``fp16``" in text
    assert "device ``cuda``" in text and "faster-whisper" not in text
    assert "several to a model input" in rendered("rtf", **given)


@pytest.mark.parametrize("name", sorted(p.stem for p in (REPO / "report").glob("*.rst")))
def test_every_caption_renders_for_the_default_run(name):
    rendered(name)
