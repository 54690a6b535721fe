"""The engines: ASR backends (``backends``, and our FireRedASR-AED engine ``fireredasr``) and
VADs (silero, FireRedVAD), each behind a table of facts in ``firescribe.settings``. An engine
only detects or transcribes; its step writes the files."""
