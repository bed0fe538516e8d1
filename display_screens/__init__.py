"""Lobby TV, kiosk, counter console and ticket status pages."""
