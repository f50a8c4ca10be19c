"""Fake payment gateways that speak yipay/epay, hupijiao and Linux Credit's real protocols
(ASGI apps: behind ``httpx.ASGITransport`` or served on loopback), and a receiver that plays
Karpov's callback routes."""
