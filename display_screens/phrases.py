"""Every word the pages show, in Bahasa Indonesia: templates read TEXT, scripts get it as JSON."""

from __future__ import annotations

DAYS = ("Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")

TEXT: dict[str, str] = {
    # shared
    "offline": "Koneksi terputus — mencoba menyambung kembali…",
    "counter": "Loket",
    "ticket": "Nomor antrian",
    "waiting": "Menunggu",
    "priority": "Prioritas",
    "people_ahead": "{n} orang lagi di depan Anda",
    "nobody_ahead": "Anda berikutnya",
    "estimate": "Perkiraan waktu tunggu ± {n} menit",
    "estimate_soon": "Perkiraan waktu tunggu: segera",
    "error_generic": "Terjadi kesalahan. Silakan coba lagi.",
    "error_network": "Tidak dapat menghubungi server. Silakan coba lagi.",
    # lobby TV
    "now_calling": "Nomor antrian",
    "go_to": "Silakan menuju",
    "recall": "Panggilan ulang",
    "priority_call": "Antrian prioritas",
    "welcome": "Selamat datang",
    "welcome_sub": "Silakan ambil nomor antrian di mesin antrian",
    "recent_calls": "Panggilan terakhir",
    "no_calls": "Belum ada panggilan",
    "counters": "Loket",
    "idle": "—",
    "paused": "Jeda",
    "waiting_per_service": "Menunggu per layanan",
    "enable_sound": "Ketuk untuk mengaktifkan suara",
    # kiosk
    "kiosk_title": "Ambil Nomor Antrian",
    "kiosk_pick_tenant": "Pilih instansi yang Anda tuju",
    "kiosk_pick_service": "Pilih layanan",
    "kiosk_back": "‹ Kembali",
    "kiosk_closed": "Tutup",
    "kiosk_open": "Buka",
    "kiosk_services": "{n} layanan",
    "kiosk_all_closed": "Semua layanan tutup",
    "kiosk_waiting": "{n} menunggu",
    "kiosk_priority_hint": "Lansia, penyandang disabilitas, ibu hamil/membawa balita:",
    "kiosk_normal": "Antrian biasa",
    "kiosk_your_ticket": "Nomor antrian Anda",
    "kiosk_keep": "Simpan tiket ini dan perhatikan layar serta panggilan suara.",
    "kiosk_scan": "Pindai untuk melihat status antrian di ponsel Anda",
    "kiosk_print_again": "Cetak ulang",
    "kiosk_done": "Selesai",
    "kiosk_retry": "Coba lagi",
    "kiosk_busy": "Mengambil nomor…",
    "kiosk_print_failed": ("Tiket gagal dicetak. Nomor Anda tetap tercatat: {code}. "
                           "Tekan Cetak ulang."),
    # officer console
    "console_title": "Konsol Petugas",
    "console_login": "Masuk",
    "console_login_intro": "Masukkan token loket ini untuk mulai melayani.",
    "console_token": "Token loket",
    "console_bad_token": "Token salah atau bukan milik loket ini.",
    "console_logout": "Keluar",
    "console_current": "Sedang dilayani",
    "console_none": "Belum ada nomor yang dipanggil",
    "console_served_for": "Dilayani",
    "console_call_count": "Dipanggil {n}×",
    "console_status_idle": "Siap",
    "console_status_serving": "Melayani",
    "console_status_paused": "Jeda",
    "call_next": "Panggil",
    "recall_btn": "Ulangi",
    "skip": "Lewati",
    "done": "Selesai",
    "transfer": "Alihkan",
    "pause": "Jeda",
    "resume": "Lanjut",
    "call_this": "Panggil",
    "restore": "Kembalikan",
    "outcome_title": "Hasil layanan",
    "outcome_completed": "Tuntas",
    "outcome_not_completed": "Belum tuntas",
    "transfer_title": "Alihkan ke layanan",
    "pause_title": "Alasan jeda",
    "pause_reasons": "Istirahat|Sholat|Rapat|Gangguan sistem",
    "pause_other": "Alasan lain",
    "cancel": "Batal",
    "ok": "OK",
    "nobody_waiting": "Tidak ada antrian yang menunggu.",
    "waiting_list": "Daftar tunggu",
    "waiting_empty": "Tidak ada yang menunggu",
    "skipped_list": "Baru dilewati",
    "skipped_empty": "Tidak ada nomor yang dilewati",
    "called_ticket": "Memanggil {code}",
    # ticket status page
    "status_title": "Status Antrian",
    "status_called": "Silakan menuju loket {counter}",
    "status_served": "Layanan selesai. Terima kasih!",
    "status_no_show": "Nomor Anda terlewat. Silakan hubungi petugas loket.",
    "status_transferred": "Dialihkan ke layanan {service}",
    "status_issued": "Diambil pukul {time}",
    # admin
    "admin_title": "Ringkasan Hari Ini",
    "admin_office": "Kantor Pengelola MPP",
    "admin_login_intro": "Masukkan token kantor (antrian token --admin) untuk melihat laporan.",
    "admin_token": "Token kantor",
    "admin_bad_token": "Token kantor salah.",
    "admin_logout": "Keluar",
    "admin_logout_all": "Akhiri semua sesi",
    "admin_logout_all_hint": "Semua loket dan halaman kantor harus masuk lagi dengan tokennya.",
    "admin_service": "Layanan",
    "admin_issued": "Diambil",
    "admin_called": "Dipanggil",
    "admin_served": "Selesai",
    "admin_completed": "Tuntas",
    "admin_no_show": "Tidak hadir",
    "admin_avg_wait": "Rata-rata tunggu (menit)",
    "admin_avg_service": "Rata-rata layanan (menit)",
    "admin_waiting": "Menunggu",
    "admin_total": "Jumlah",
    "admin_screens": "Suara di layar",
    "admin_screen": "Layar",
    "admin_last_played": "Terakhir memutar",
    "admin_no_screens": ("Belum ada layar yang dikenal: daftarkan di [[screens]] konfigurasi "
                         "situs atau lewat POST /api/screens dengan token kantor."),
    "admin_not_played": "Belum memutar suara hari ini",
    "admin_silent": "Tertinggal — periksa suara layar ini",
    "admin_ok": "Baik",
    # errors shown as pages
    "page_bad_filter": "Pilihan layanan atau profil layar tidak dikenal.",
}


def fmt(template: str, **values: object) -> str:
    """Fill a phrase's {placeholders}."""
    return template.format(**values)


def long_date(year: int, month: int, day: int, weekday: int) -> str:
    """'Sabtu, 28 November 2026' (weekday as Python's date.weekday(): 0 = Monday)."""
    return f"{DAYS[(weekday + 1) % 7]}, {day} {MONTHS[month - 1]} {year}"


def script_phrases() -> dict[str, object]:
    """What the page scripts need: every text plus the day and month names."""
    return {**TEXT, "days": list(DAYS), "months": list(MONTHS)}
