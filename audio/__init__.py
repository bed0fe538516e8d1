"""Spoken Indonesian announcements: number words, phrases, speech, playback."""
