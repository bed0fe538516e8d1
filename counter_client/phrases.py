"""Every word the officer reads in the counter client, in Bahasa Indonesia, in one place."""

from __future__ import annotations

# the client and the command line
BAD_SERVER_URL = "Alamat server tidak sah: {url!r}. Contoh: --server http://192.168.1.10:8000"
TIMEOUT = "Server {server} tidak menjawab tepat waktu."
UNREACHABLE = "Server {server} tidak dapat dihubungi."
NOT_ANTRIAN = "{server} bukan server antrian (jawabannya tidak dikenali). Periksa alamat --server."
NOT_ANTRIAN_SHAPE = ("Jawaban server tidak dikenali: alamat ini bukan server antrian, "
                     "atau versinya tidak cocok.")
START_UNREACHABLE = ("{message} Periksa alamat --server dan jaringan, dan bahwa server antrian "
                     "sedang berjalan.")
UNKNOWN_COUNTER = "Loket {counter} tidak ada di server ini (loket yang ada: {numbers})."
TOKEN_MISSING = ("Token loket belum diberikan: pakai --token-file BERKAS, --token TOKEN, atau "
                 "variabel lingkungan ANTRIAN_TOKEN. Token dicetak di server oleh "
                 "`antrian token --counter N`.")
TOKEN_FILE_OPEN = "Berkas token {path} tidak dapat dibaca: {reason}"
TOKEN_FILE_PERMS = ("Berkas token {path} terbuka untuk pengguna lain (izin {mode}); token tidak "
                    "dipakai. Jalankan: chmod 600 {path}")
TOKEN_FILE_OWNER = "Berkas token {path} bukan milik pengguna ini; token tidak dipakai."
TOKEN_FILE_EMPTY = "Berkas token {path} kosong."
BAD_COUNTER = "Nomor loket harus bilangan bulat positif, bukan {value!r}."
NOT_INSTALLED = ("Aplikasi terminal loket belum terpasang: pasang dengan "
                 "pip install 'antrian[counter]'")

# the keypad map
KEYMAP_OPEN = "Peta tombol {path} tidak dapat dibaca: {reason}"
KEYMAP_TOML = "Peta tombol {path} bukan TOML yang sah: {reason}"
KEYMAP_SHAPE = ('Peta tombol {path} harus berisi satu tabel [keys], contoh:\n'
                '[keys]\n"+" = "call_next"\n"-" = "recall"')
KEYMAP_ACTION = ("Peta tombol {path}: tombol {key!r} diberi tindakan {action!r} yang tidak "
                 "dikenal. Pilihan: {actions}")
KEYMAP_KEY = ('Peta tombol {path}: nama tombol {key!r} tidak dikenal. Pakai satu karakter '
              '(mis. "+", "*", "1") atau nama tombol (mis. "enter", "escape", "f1").')

# the terminal app
TITLE = "Loket {number}"
ACTION_LABELS = {
    "call-next": "Panggil", "call": "Panggil nomor", "recall": "Ulangi", "skip": "Lewati",
    "done": "Selesai", "transfer": "Alihkan", "pause": "Jeda", "resume": "Lanjut",
    "restore": "Kembalikan",
}
KEY_HELP = {
    "call_next": "Panggil", "recall": "Ulangi", "skip": "Lewati", "restore": "Kembalikan",
    "done": "Selesai",
    "transfer": "Alihkan", "pause": "Jeda/Lanjut", "cancel": "Batal", "quit": "Keluar",
}
KEY_NAMES = {"enter": "Enter", "space": "Spasi", "escape": "Esc", "backspace": "Backspace",
             "plus": "+", "minus": "-", "asterisk": "*", "slash": "/", "full_stop": "."}
CONNECTING = "Menghubungkan ke server…"
LINK_UP = "Terhubung ke server"
LINK_DOWN = "KONEKSI TERPUTUS — server tidak dapat dihubungi, mencoba lagi…"
NOTHING_PENDING = ""
SENDING = "Mengirim: {label}…"
PENDING = "TERTUNDA: {label} — dikirim begitu koneksi kembali · {cancel}: batalkan"
CANCELLED = ("{label} dibatalkan. Bila sudah sampai di server, hasilnya tetap tampil "
             "di layar ini.")
NOTHING_TO_CANCEL = "Tidak ada tindakan yang tertunda."
SAME_PRESS = "{label} sedang dikirim; tekanan kedua diabaikan."
BUSY = "Tunggu: {label} belum terkirim. Batalkan dulu ({cancel}) untuk tindakan lain."
DOUBLE_PRESS = ("Panggil diabaikan: {code} baru saja dipanggil (tekan ganda?). "
                "Tekan lagi untuk memanggil berikutnya.")
QUIT_PENDING = ("Masih ada tindakan tertunda: {label}. Tekan {key} sekali lagi untuk keluar "
                "tanpa mengirimnya.")
NO_TICKET = "—"
NO_TICKET_NOTE = "Belum ada nomor yang dilayani"
SERVED_FOR = "dilayani {minutes:02d}:{seconds:02d}"
STATUS = {"idle": "Siap melayani", "serving": "Melayani", "paused": "JEDA: {reason}"}
WAITING_TITLE = "Menunggu"
WAITING_ROW = "{code}  {name}: {count} orang"
LOG_TITLE = "Tindakan terakhir"

CALLED = "Memanggil {code}"
CALLED_ELSEWHERE = "{code} dipanggil dari konsol lain"
NOBODY_WAITING = "Tidak ada yang menunggu."
RECALLED = "Memanggil ulang {code} (ke-{calls})"
SKIPPED = "{code} dilewati (tidak hadir)"
DONE = "{code} selesai — {outcome}"
TRANSFERRED = "{code} dialihkan ke layanan {service}"
PAUSED = "Loket jeda: {reason}"
RESUMED = "Loket melayani lagi"
RESTORED = "{code} dikembalikan ke antrian"
REFUSED = "{label} ditolak: {message}"
RESYNCED = "Tersambung lagi; tampilan diperbarui dari server."

OUTCOMES = {"completed": "tuntas", "not_completed": "belum tuntas"}
CHOOSE_OUTCOME = "Selesai {code} — bagaimana hasilnya?"
OUTCOME_CHOICES = {"completed": "Tuntas", "not_completed": "Belum tuntas"}
CHOOSE_SERVICE = "Alihkan {code} ke layanan:"
CHOOSE_REASON = "Alasan jeda:"
PAUSE_REASONS = ("Istirahat", "Ibadah", "Rapat", "Gangguan sistem", "Keperluan lain")
CHOICE_HINT = "Tekan angka pilihan, atau ↑/↓ lalu Enter · {cancel}: batal"
CHOOSE_SKIPPED = "Kembalikan ke antrian nomor yang dilewati:"
NO_SKIPPED = "Belum ada nomor yang dilewati di loket ini."
NEED_TICKET = "Belum ada nomor yang dilayani."
NO_OTHER_SERVICE = "Tidak ada layanan lain untuk tujuan pengalihan."
