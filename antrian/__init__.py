"""The composition root: the `antrian` command, the app assembly and the demo. Imported by none."""
