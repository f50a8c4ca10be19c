"""Audio files: reading tags with mutagen (``scanner``) and making small ones (``synth``)."""
