"""The contract's error body, the status of each error code, and the text people read."""

from __future__ import annotations

from starlette.responses import JSONResponse

# code -> (HTTP status, message in Bahasa Indonesia)
ERRORS: dict[str, tuple[int, str]] = {
    "invalid_json": (400, "Isi permintaan bukan JSON yang sah."),
    "invalid_body": (400, "Isi permintaan harus berupa objek JSON."),
    "unknown_field": (400, "Isian tidak dikenal."),
    "missing_field": (400, "Isian wajib belum diisi."),
    "invalid_field": (400, "Nilai isian tidak sah."),
    "invalid_parameter": (400, "Parameter tidak sah."),
    "unauthorized": (401, "Token loket tidak ada atau salah."),
    "forbidden": (403, "Token ini milik loket lain."),
    "not_found": (404, "Alamat tidak ditemukan."),
    "unknown_service": (404, "Layanan tidak dikenal."),
    "unknown_counter": (404, "Loket tidak dikenal."),
    "unknown_ticket": (404, "Nomor antrian tidak ditemukan."),
    "unknown_event": (404, "Panggilan tidak ditemukan."),
    "unknown_screen": (404, "Layar tidak dikenal: daftarkan di konfigurasi situs atau di kantor "
                            "pengelola."),
    "method_not_allowed": (405, "Metode tidak diizinkan."),
    "service_closed": (409, "Layanan sedang tutup."),
    "request_id_reused": (409, "request_id ini sudah dipakai untuk tindakan atau isian lain."),
    "quota_reached": (409, "Kuota antrian layanan ini hari ini sudah habis."),
    "counter_paused": (409, "Loket sedang jeda."),
    "counter_not_paused": (409, "Loket tidak sedang jeda."),
    "no_current_ticket": (409, "Belum ada nomor yang dipanggil di loket ini."),
    "ticket_in_progress": (409, "Selesaikan dulu nomor yang sedang dilayani."),
    "ticket_not_waiting": (409, "Nomor ini tidak sedang menunggu."),
    "ticket_not_skipped": (409, "Nomor ini tidak dilewati."),
    "grace_expired": (409, "Batas waktu pengembalian nomor sudah lewat."),
    "same_service": (409, "Nomor sudah berada di layanan ini."),
    "service_not_served": (409, "Loket ini tidak melayani layanan tersebut."),
    "payload_too_large": (413, "Isi permintaan terlalu besar."),
    "unsupported_media_type": (415, "Gunakan Content-Type application/json."),
    "too_many_screens": (409, "Terlalu banyak layar terdaftar."),
    "rate_limited": (429, "Terlalu banyak permintaan, coba lagi sebentar lagi."),
    "too_many_connections": (429, "Terlalu banyak koneksi dari alamat ini."),
    "request_timeout": (408, "Permintaan tidak lengkap dalam batas waktu."),
    "headers_too_large": (431, "Header permintaan terlalu besar."),
    "internal": (500, "Terjadi kesalahan di server."),
    "redis_unavailable": (503, "Penyimpanan data tidak dapat dihubungi, coba lagi sebentar."),
    "fanout_stopped": (503, "Layar tidak menerima panggilan baru: pengikut peristiwa berhenti."),
}


class ApiError(Exception):
    """An error answered with the contract's body: {"error": {"code", "message"}}."""

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in ERRORS:
            raise ValueError(f"unknown error code {code!r}")
        self.code = code
        self.status, base = ERRORS[code]
        self.message = f"{base} ({detail})" if detail else base
        super().__init__(self.message)

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)
