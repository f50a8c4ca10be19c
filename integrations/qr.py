"""QR codes for authenticator enrolment, rendered as SVG data URIs (segno: pure Python,
no image libraries)."""

from __future__ import annotations

import segno


class SegnoQrRenderer:
    def svg_data_uri(self, text: str) -> str:
        return str(segno.make(text, error="m", micro=False).svg_data_uri(scale=4, border=2))
