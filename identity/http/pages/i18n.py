"""The pages' words, in Bahasa Indonesia first and English (UU PDP Art. 22(3): clear, simple
language; Permenkominfo 20/2016: consent forms in Bahasa Indonesia).

The language of a page is chosen, first match wins, from:

1. ``?lang=id`` / ``?lang=en`` on the URL (the switch link on every page), or a ``lang``
   field of a form;
2. the ``lang`` cookie the switch sets;
3. the relying app's ``ui_locales`` (OIDC Core §3.1.2.1), when a sign-in request is pending;
4. Bahasa Indonesia.

``Accept-Language`` is deliberately not read: Indonesian comes first unless the citizen
asks otherwise. Every text a page shows comes from :data:`MESSAGES`, the catalogue of both
languages side by side; tests/http/test_pages_i18n.py fails on a key a page uses that is not
here, a key here that no page uses, a text left the same in both languages, and a word a
template holds itself; values from the database (an app's purpose descriptions, a
notice's items) come in both languages from their owners, Indonesian when English is absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from consent.purposes import LocalizedText
from consent.receipts import LEGAL_BASIS_TEXT

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANG_COOKIE",
    "MESSAGES",
    "Translator",
    "choose_language",
    "language_of",
]

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANG_COOKIE = "lang"

#: key -> (Bahasa Indonesia, English). ``{name}`` placeholders are filled by ``t(key, name=...)``.
MESSAGES: Mapping[str, tuple[str, str]] = {
    # -- frame
    "site.tagline": ("Identitas digital warga", "Citizens' digital identity"),
    "lang.switch": ("English", "Bahasa Indonesia"),
    "lang.switch_prefix": ("Ganti bahasa ke", "Switch language to"),
    # a page that answers an error: its <title> says so first (WCAG 2.2 SC 3.3.1, G88)
    "title.error": ("Kesalahan: {title}", "Error: {title}"),
    "nav.skip": ("Lewati ke isi halaman", "Skip to the content"),
    "nav.label": ("Navigasi", "Navigation"),
    "nav.account": ("Akun saya", "My account"),
    "nav.logout": ("Keluar", "Sign out"),
    "nav.login": ("Masuk", "Sign in"),
    "common.back_to_account": ("Kembali ke akun saya", "Back to my account"),
    "common.error_prefix": ("Kesalahan:", "Error:"),
    "common.open_again": ("Buka halaman ini lagi", "Open this page again"),
    # -- front page (identity/http/pages/home.py): plain words first, the law cited second
    "home.title": (
        "Satu identitas digital untuk layanan publik",
        "One digital identity for public services",
    ),
    "home.lead": (
        "Dengan Jati, Anda masuk ke banyak aplikasi layanan publik memakai satu akun. "
        "Aplikasi hanya menerima data pribadi yang Anda setujui, dan setiap penggunaan data "
        "Anda dicatat, sehingga Anda dapat melihat siapa yang menggunakannya dan untuk apa.",
        "With Jati you sign in to many public-service apps with one account. An app receives "
        "only the personal data you agree to, and every use of your data is recorded, so you "
        "can see who used it and why.",
    ),
    "home.law": (
        "Jati bekerja menurut Undang-Undang Nomor 27 Tahun 2022 tentang Pelindungan Data "
        "Pribadi (UU PDP).",
        "Jati works under Indonesia's Law No. 27 of 2022 on Personal Data Protection (UU PDP).",
    ),
    "home.citizens.heading": ("Untuk warga", "For citizens"),
    "home.citizens.intro": (
        "Masuk ke akun Anda untuk melihat apa yang terjadi dengan data Anda dan untuk "
        "menggunakan hak Anda atas data itu.",
        "Sign in to your account to see what happens to your data and to use your rights over it.",
    ),
    "home.citizens.account": ("Masuk ke akun saya", "Sign in to my account"),
    "home.citizens.account_open": ("Buka akun saya", "Open my account"),
    "home.citizens.account_about": (
        "Lihat dan tarik persetujuan yang Anda berikan kepada aplikasi, dan minta salinan, "
        "koreksi, pembatasan atau penghapusan data Anda.",
        "See and withdraw the consents you gave to apps, and ask for a copy, a correction, a "
        "restriction or the erasure of your data.",
    ),
    "home.citizens.account_law": (
        "Menarik persetujuan: UU PDP Pasal 9 dan 40. Hak Anda sebagai subjek data: Pasal 5-13.",
        "Withdrawing consent: UU PDP Art. 9 and 40. Your rights as a data subject: Art. 5-13.",
    ),
    "home.citizens.access_log": (
        "Lihat siapa yang menggunakan data saya",
        "See who used my data",
    ),
    "home.citizens.access_log_about": (
        "Setiap penggunaan data Anda: kapan, oleh siapa, dan untuk tujuan apa. Perlu masuk "
        "lebih dahulu.",
        "Every use of your data: when, by whom and for what purpose. You sign in first.",
    ),
    "home.citizens.access_log_law": (
        "Catatan seluruh kegiatan pemrosesan: UU PDP Pasal 31.",
        "Record of all processing activities: UU PDP Art. 31.",
    ),
    "home.developers.heading": ("Untuk pengembang aplikasi", "For app developers"),
    "home.developers.intro": (
        "Jati adalah penyedia OpenID Connect. Aplikasi Anda mengarahkan warga ke Jati untuk "
        "masuk, lalu menerima token yang hanya berisi data yang disetujui warga.",
        "Jati is an OpenID Connect provider. Your app sends citizens to Jati to sign in, then "
        "receives tokens holding only the data they agreed to.",
    ),
    "home.developers.issuer": (
        "Pengenal penerbit (issuer) layanan ini:",
        "This service's issuer identifier:",
    ),
    "home.developers.law": (
        "Aplikasi hanya menerima data untuk tujuan yang terdaftar beserta dasar hukumnya: UU "
        "PDP Pasal 20.",
        "An app receives data only for registered purposes, each with its legal basis: UU PDP "
        "Art. 20.",
    ),
    "home.developers.discovery": (
        "Konfigurasi OpenID Connect (dokumen discovery)",
        "OpenID Connect configuration (discovery document)",
    ),
    "home.developers.discovery_about": (
        "Semua alamat dan kemampuan layanan, dibaca oleh pustaka OpenID Connect Anda:",
        "Every endpoint and capability of the service, read by your OpenID Connect library:",
    ),
    "home.developers.jwks": (
        "Kunci publik penanda tangan token (JWKS)",
        "Public keys that sign the tokens (JWKS)",
    ),
    "home.developers.jwks_about": (
        "Untuk memeriksa tanda tangan token ID dan token akses:",
        "To check the signatures of ID tokens and access tokens:",
    ),
    "home.developers.api": ("Dokumentasi API interaktif", "Interactive API documentation"),
    "home.developers.api_about": (
        "Setiap titik akhir API, dengan parameter dan jawabannya (OpenAPI).",
        "Every API endpoint, with its parameters and answers (OpenAPI).",
    ),
    "home.developers.guides": (
        "Panduan tertulis ada di folder docs/ dalam repositori sumber Jati:",
        "Written guides are in the docs/ folder of Jati's source repository:",
    ),
    "home.developers.guide_relying_apps": (
        "menghubungkan aplikasi Anda ke Jati",
        "connecting your app to Jati",
    ),
    "home.developers.guide_operators": ("menjalankan layanan Jati", "running the Jati service"),
    "home.developers.guide_audit_log": (
        "log audit dan cara memeriksanya",
        "the audit log and how to check it",
    ),
    "home.auditors.heading": ("Untuk auditor", "For auditors"),
    "home.auditors.intro": (
        "Setiap penggunaan data pribadi dicatat dalam log audit yang hanya dapat ditambah, "
        "tidak dapat diubah. Jati secara berkala menandatangani ringkasan log (checkpoint), "
        "sehingga siapa pun dapat memeriksa bahwa tidak ada catatan yang diubah atau dihapus.",
        "Every use of personal data is recorded in an audit log that can only grow, never "
        "change. Jati regularly signs a summary of the log (a checkpoint), so anyone can check "
        "that no record was changed or removed.",
    ),
    "home.auditors.law": (
        "Catatan seluruh kegiatan pemrosesan: UU PDP Pasal 31.",
        "Record of all processing activities: UU PDP Art. 31.",
    ),
    "home.auditors.checkpoint": (
        "Checkpoint terbaru log audit, bertanda tangan",
        "Latest signed checkpoint of the audit log",
    ),
    "home.auditors.checkpoint_about": (
        "Jumlah catatan dan hash akar log, dalam format C2SP tlog-checkpoint.",
        "The number of records and the log's root hash, in the C2SP tlog-checkpoint format.",
    ),
    "home.auditors.key": (
        "Kunci verifikasi checkpoint",
        "Checkpoint verification key",
    ),
    "home.auditors.key_about": (
        "Kunci publik untuk memeriksa tanda tangan checkpoint (C2SP vkey).",
        "The public key that checks a checkpoint's signature (C2SP vkey).",
    ),
    "home.auditors.verify_heading": ("Cara memeriksa log", "How to check the log"),
    "home.auditors.step_keep": (
        "Simpan checkpoint terbaru dan kunci verifikasinya di tempat Anda sendiri.",
        "Keep the latest checkpoint and its verification key somewhere of your own.",
    ),
    "home.auditors.step_consistency": (
        "Kelak, minta bukti konsistensi antara ukuran checkpoint yang Anda simpan (N) dan "
        "ukuran checkpoint terbaru (M):",
        "Later, ask for a consistency proof between the size of the checkpoint you kept (N) "
        "and the size of the latest one (M):",
    ),
    "home.auditors.step_consistency_then": (
        "Bila bukti itu cocok dengan kedua hash akar, log hanya bertambah: tidak ada catatan "
        "lama yang diubah (RFC 9162 §2.1.4).",
        "When the proof matches both root hashes, the log has only grown: no earlier record "
        "was changed (RFC 9162 §2.1.4).",
    ),
    "home.auditors.step_inclusion": (
        "Untuk satu catatan (nomor entrinya ada di halaman Akun saya), minta bukti bahwa "
        "catatan itu ada di log (RFC 9162 §2.1.3):",
        "For one record (its entry number is on the My account page), ask for proof that it "
        "is in the log (RFC 9162 §2.1.3):",
    ),
    "home.auditors.step_verify": (
        "Operator yang memegang basis data menghitung ulang seluruh log dan mencocokkannya "
        "dengan setiap checkpoint, termasuk checkpoint yang Anda simpan:",
        "The operator who holds the database recomputes the whole log and checks it against "
        "every checkpoint, the one you kept included:",
    ),
    "home.auditors.events": (
        "Auditor terdaftar (cakupan audit:read) membaca catatan melalui API berikut; setiap "
        "pembacaan itu sendiri dicatat di log:",
        "Registered auditors (scope audit:read) read the records through the following API; "
        "each reading is itself recorded in the log:",
    ),
    # -- errors
    "error.title": ("Terjadi kesalahan", "Something went wrong"),
    "error.bad_request": (
        "Permintaan ini tidak dapat diproses. Tidak ada yang diubah.",
        "This request cannot be processed. Nothing was changed.",
    ),
    "error.not_found.title": ("Tidak ditemukan", "Not found"),
    "error.not_found": (
        "Yang Anda cari tidak ada, atau bukan milik akun Anda.",
        "What you are looking for does not exist, or is not yours.",
    ),
    "csrf.title": ("Formulir tidak dapat diproses", "The form could not be processed"),
    "csrf.body": (
        "Formulir ini sudah kedaluwarsa atau tidak dikirim dari halaman Jati. Muat ulang "
        "halaman, lalu coba lagi. Tidak ada yang diubah.",
        "This form has expired or was not sent from a Jati page. Reload the page and try "
        "again. Nothing was changed.",
    ),
    "request_unknown.title": ("Permintaan masuk tidak dikenal", "Unknown sign-in request"),
    "request_unknown.body": (
        "Permintaan ini tidak dikenal atau sudah kedaluwarsa (berlaku 10 menit). Kembali ke "
        "aplikasi dan mulai lagi.",
        "This request is unknown or has expired (it lasts 10 minutes). Go back to the app "
        "and start again.",
    ),
    "throttled.title": ("Terlalu banyak percobaan", "Too many attempts"),
    "throttled.body": (
        "Untuk melindungi akun, percobaan masuk dihentikan sementara. Coba lagi dalam "
        "{seconds} detik.",
        "To protect accounts, sign-in attempts are paused. Try again in {seconds} seconds.",
    ),
    # -- login
    "login.title": ("Masuk ke Jati", "Sign in to Jati"),
    "login.for_app": (
        "{app} meminta Anda masuk dengan identitas digital Jati.",
        "{app} asks you to sign in with your Jati digital identity.",
    ),
    "login.nik": ("NIK (Nomor Induk Kependudukan)", "NIK (national identity number)"),
    "login.nik_hint": (
        "16 angka, seperti pada KTP Anda.",
        "16 digits, as on your identity card (KTP).",
    ),
    "login.password": ("Kata sandi", "Password"),
    "login.submit": ("Masuk", "Sign in"),
    "login.failed": ("NIK atau kata sandi salah.", "The NIK or the password is wrong."),
    "login.missing": ("Isi NIK dan kata sandi Anda.", "Enter your NIK and your password."),
    "otp.title": ("Kode verifikasi", "Verification code"),
    "otp.intro": (
        "Masukkan kode 6 angka yang ditampilkan aplikasi autentikator Anda.",
        "Enter the 6-digit code your authenticator app shows.",
    ),
    "otp.code": ("Kode 6 angka", "6-digit code"),
    "otp.submit": ("Verifikasi", "Verify"),
    "otp.failed": (
        "Kode salah atau sudah pernah dipakai. Tunggu kode berikutnya, lalu coba lagi.",
        "The code is wrong or was used already. Wait for the next code and try again.",
    ),
    "otp.expired": (
        "Waktu untuk memasukkan kode telah habis. Silakan masuk lagi.",
        "The time to enter the code has run out. Please sign in again.",
    ),
    "otp.step_up": (
        "{app} meminta verifikasi tambahan. Masukkan kode dari aplikasi autentikator Anda "
        "untuk melanjutkan.",
        "{app} asks for an extra check. Enter the code from your authenticator app to continue.",
    ),
    "login.activate_intro": (
        "Baru didaftarkan di loket dan belum punya kata sandi?",
        "Registered at the counter and no password yet?",
    ),
    "login.activate": ("Aktifkan akun", "Activate your account"),
    # -- activation (identity/http/pages/activate.py): plain words first
    "activate.title": ("Aktifkan akun Anda", "Activate your account"),
    "activate.lead": (
        "Aktivasi membuka akun Jati yang didaftarkan untuk Anda di loket. Masukkan NIK, "
        "tanggal lahir, dan kode aktivasi dari petugas. Setelah itu Anda memilih kata sandi "
        "sendiri.",
        "Activation opens the Jati account that was registered for you at the counter. Enter "
        "your NIK, your date of birth and the activation code the officer gave you. Then you "
        "choose your own password.",
    ),
    "activate.private": (
        "Tidak ada orang lain, termasuk petugas, yang memilih atau akan pernah mengetahui "
        "kata sandi Anda.",
        "Nobody else, not even the officer, chooses your password or will ever know it.",
    ),
    "activate.birthdate": ("Tanggal lahir", "Date of birth"),
    "activate.birthdate_hint": (
        "Seperti pada KTP Anda. Jika tidak muncul pemilih tanggal, tulis tahun-bulan-tanggal, "
        "misalnya 1990-01-31.",
        "As on your identity card (KTP). If no date picker appears, write year-month-day, "
        "for example 1990-01-31.",
    ),
    "activate.code": ("Kode aktivasi", "Activation code"),
    "activate.code_hint": (
        "Kode yang diberikan petugas di loket: 16 huruf dan angka dalam empat kelompok, "
        "misalnya 7KQ2-M9XD-4HPA-T3VE. Huruf besar dan huruf kecil sama saja.",
        "The code the officer gave you at the counter: 16 letters and digits in four groups, "
        "for example 7KQ2-M9XD-4HPA-T3VE. Capital and small letters are the same.",
    ),
    "activate.submit": ("Lanjutkan", "Continue"),
    "activate.have_password": ("Sudah punya kata sandi?", "Already have a password?"),
    "activate.again": ("Masukkan kode aktivasi", "Enter the activation code"),
    "activate.missing_nik": (
        "Isi NIK Anda: 16 angka, seperti pada KTP.",
        "Enter your NIK: 16 digits, as on your identity card.",
    ),
    "activate.bad_birthdate": (
        "Isi tanggal lahir Anda sebagai tahun-bulan-tanggal, misalnya 1990-01-31.",
        "Enter your date of birth as year-month-day, for example 1990-01-31.",
    ),
    "activate.missing_code": (
        "Isi kode aktivasi dari petugas.",
        "Enter the activation code the officer gave you.",
    ),
    "activate.malformed_code": (
        "Kode aktivasi terdiri dari 16 huruf dan angka dalam empat kelompok, misalnya "
        "7KQ2-M9XD-4HPA-T3VE. Periksa kode yang Anda ketik.",
        "An activation code is 16 letters and digits in four groups, for example "
        "7KQ2-M9XD-4HPA-T3VE. Check the code you typed.",
    ),
    "activate.refused": (
        "Akun tidak dapat diaktifkan dengan isian ini. NIK, tanggal lahir, atau kode aktivasi "
        "mungkin salah, atau kode sudah kedaluwarsa, sudah diganti dengan kode baru, atau "
        "sudah dipakai. Periksa isian Anda dan coba lagi. Jika masih gagal, mintalah kode "
        "baru di loket.",
        "The account cannot be activated with these details. The NIK, the date of birth or "
        "the activation code may be wrong, or the code has expired, was replaced by a newer "
        "one or has been used. Check what you entered and try again. If it still fails, ask "
        "for a new code at the counter.",
    ),
    "activate.setup.title": ("Pilih cara Anda masuk", "Choose how you will sign in"),
    "activate.setup.lead": (
        "Kode aktivasi Anda benar. Sekarang pilih kata sandi. Hanya Anda yang mengetahuinya: "
        "Jati menyimpannya dalam bentuk yang tidak dapat diubah kembali menjadi kata sandi "
        "Anda oleh siapa pun.",
        "Your activation code is right. Now choose a password. Only you will know it: Jati "
        "keeps it in a form that nobody can turn back into your password.",
    ),
    "activate.setup.password": ("Kata sandi baru", "New password"),
    "activate.setup.rules": (
        "Paling sedikit {minimum} karakter. Huruf, angka, spasi, dan tanda apa pun boleh "
        "dipakai. Beberapa kata yang mudah Anda ingat tetapi sulit ditebak orang lain adalah "
        "pilihan yang baik. Jangan memakai kata sandi yang juga Anda pakai di tempat lain.",
        "At least {minimum} characters. Any letters, digits, spaces and symbols may be used. "
        "A few words that you remember easily but others cannot guess make a good password. "
        "Do not use a password you also use anywhere else.",
    ),
    "activate.setup.repeat": ("Ulangi kata sandi baru", "Repeat the new password"),
    "activate.setup.repeat_hint": (
        "Ketik kata sandi yang sama sekali lagi, untuk memastikan tidak ada salah ketik.",
        "Type the same password again, to make sure there is no typing mistake.",
    ),
    "activate.setup.submit": ("Simpan kata sandi dan masuk", "Save the password and sign in"),
    "activate.setup.passkey_later": (
        "Setelah masuk, Anda juga dapat menambahkan passkey (masuk dengan sidik jari, wajah, "
        "atau PIN perangkat Anda) di halaman akun.",
        "Once signed in, you can also add a passkey (signing in with your fingerprint, face "
        "or device PIN) on your account page.",
    ),
    "activate.setup.mismatch": (
        "Kedua kata sandi tidak sama. Ketik kata sandi yang sama di kedua kolom.",
        "The two passwords are not the same. Type the same password in both fields.",
    ),
    "activate.setup.too_short": (
        "Kata sandi terlalu pendek: pakai paling sedikit {minimum} karakter.",
        "The password is too short: use at least {minimum} characters.",
    ),
    "activate.setup.too_long": (
        "Kata sandi terlalu panjang. Pakai kata sandi yang lebih pendek.",
        "The password is too long. Use a shorter one.",
    ),
    "activate.setup.expired": (
        "Waktu untuk memilih kata sandi telah habis, atau kode aktivasi belum dimasukkan. "
        "Masukkan NIK, tanggal lahir, dan kode aktivasi Anda lagi.",
        "The time to choose a password has run out, or the activation code was not entered "
        "yet. Enter your NIK, date of birth and activation code again.",
    ),
    "activate.setup.used": (
        "Kode aktivasi ini sudah tidak berlaku: sudah dipakai, diganti dengan kode baru, atau "
        "kedaluwarsa. Jika Anda sudah memilih kata sandi, silakan masuk. Jika belum, mintalah "
        "kode baru di loket.",
        "This activation code no longer works: it has been used, replaced by a newer one or "
        "has expired. If you have already chosen a password, sign in. If not, ask for a new "
        "code at the counter.",
    ),
    # -- consent
    "consent.title": (
        "Persetujuan penggunaan data pribadi",
        "Consent to the use of your personal data",
    ),
    "consent.intro": (
        "{app} (pengendali data: {controller}) meminta data pribadi Anda. Tentukan pilihan "
        "Anda untuk setiap tujuan. Tidak ada pilihan yang dipilihkan untuk Anda.",
        "{app} (controller: {controller}) asks for your personal data. Make a choice for "
        "each purpose. Nothing is chosen for you.",
    ),
    "consent.fixed_layout": (
        "Halaman ini disusun oleh Jati dengan tata letak tetap; aplikasi tidak dapat "
        "mengubahnya. Anda dapat menarik persetujuan kapan saja di halaman Akun saya "
        "(UU PDP Pasal 9 dan 40).",
        "Jati lays out this page the same way for every app; the app cannot change it. You "
        "can withdraw consent at any time on the My account page (UU PDP Art. 9 and 40).",
    ),
    "consent.asked_heading": (
        "Tujuan yang memerlukan persetujuan Anda",
        "Purposes that need your consent",
    ),
    "consent.basis": ("Dasar hukum", "Legal basis"),
    "consent.items": ("Data yang digunakan", "Data used"),
    "consent.specific": (
        "data pribadi yang bersifat spesifik (UU PDP Pasal 4 ayat (2))",
        "specific personal data (UU PDP Art. 4(2))",
    ),
    "consent.retention_label": ("Berapa lama disimpan", "How long it is kept"),
    "consent.kept_by": (
        "{controller} menyimpannya selama {days} hari.",
        "{controller} keeps it for {days} days.",
    ),
    # what consent means over time, in plain words; the articles on the second line
    "consent.lasts": (
        "Persetujuan Anda berlaku sampai Anda menariknya, kapan saja, di halaman Akun saya. "
        "Saat itu juga Jati berhenti memberikan data Anda kepada {app}, dan {controller} wajib "
        "berhenti memproses data yang sudah diterimanya paling lambat 3×24 jam. Untuk "
        "meminta data itu dihapus, ajukan permintaan penghapusan di halaman yang sama.",
        "Your consent lasts until you withdraw it, at any time, on My account. From that "
        "moment Jati stops giving your data to {app}, and {controller} must stop processing "
        "the data it already received within 3×24 hours. To have that data deleted, file an "
        "erasure request on the same page.",
    ),
    "consent.lasts_cite": ("UU PDP Pasal 9, 40 dan 8", "UU PDP Articles 9, 40 and 8"),
    "consent.retention": ("Disimpan selama {days} hari.", "Kept for {days} days."),
    "consent.current_status": ("Status saat ini: {status}.", "Current status: {status}."),
    "consent.agree": ("Setuju", "I agree"),
    "consent.disagree": ("Tidak setuju", "I do not agree"),
    "consent.choose_error": (
        "Pilih Setuju atau Tidak setuju untuk tujuan ini.",
        "Choose I agree or I do not agree for this purpose.",
    ),
    "consent.missing_summary": (
        "Belum semua tujuan memiliki pilihan. Tidak ada yang dicatat.",
        "Not every purpose has a choice yet. Nothing was recorded.",
    ),
    "consent.other_heading": ("Diproses tanpa persetujuan", "Processed without consent"),
    "consent.other_intro": (
        "Untuk tujuan berikut aplikasi tidak meminta persetujuan, karena pemrosesannya "
        "berdasar pada dasar hukum lain (UU PDP Pasal 20 ayat (2)). Tujuan ini ditampilkan "
        "agar Anda mengetahuinya, bukan untuk dipilih.",
        "For these purposes the app does not ask for consent, because the processing rests "
        "on another legal basis (UU PDP Art. 20(2)). They are shown so that you know, not "
        "for you to choose.",
    ),
    "consent.other_item": (
        "diproses tanpa persetujuan, dengan dasar: {basis}",
        "processed without consent, on basis: {basis}",
    ),
    "consent.dpo": ("Pejabat pelindungan data pribadi", "Data protection officer"),
    "consent.notice_link": (
        "Baca pemberitahuan privasi lengkap (versi {version})",
        "Read the full privacy notice (version {version})",
    ),
    "consent.submit": ("Kirim pilihan saya", "Send my choices"),
    "consent.cancel": ("Batal, jangan bagikan data saya", "Cancel, share nothing"),
    "consent.notice_changed": (
        "Pemberitahuan privasi aplikasi ini baru saja berubah. Baca versi terbaru, lalu "
        "pilih lagi. Tidak ada yang dicatat.",
        "This app's privacy notice has just changed. Read the new version and choose again. "
        "Nothing was recorded.",
    ),
    "consent.guardian": (
        "Persetujuan ini tidak dapat dicatat: {reason} Tidak ada yang dicatat.",
        "This consent cannot be recorded: {reason} Nothing was recorded.",
    ),
    "consent.guardian_child": (
        "Anda berusia di bawah 18 tahun, sehingga persetujuan diberikan oleh orang tua atau "
        "wali (UU PDP Pasal 25).",
        "You are under 18, so consent is given by a parent or guardian (UU PDP Art. 25).",
    ),
    # -- notice
    "notice.title": ("Pemberitahuan privasi {app}", "Privacy notice of {app}"),
    "notice.controller": ("Pengendali data", "Controller"),
    "notice.meta": (
        "Versi {version}, diterbitkan {published}.",
        "Version {version}, published {published}.",
    ),
    "notice.technical": ("Detail teknis", "Technical details"),
    "notice.hash": (
        "Sidik isi pemberitahuan ini (SHA-256), yang tercatat bersama persetujuan Anda:",
        "This notice's content fingerprint (SHA-256), recorded with your consent:",
    ),
    "notice.item.legality": ("Legalitas pemrosesan", "Legality of the processing"),
    "notice.item.purposes": ("Tujuan pemrosesan", "Purposes of the processing"),
    "notice.item.data_types": ("Jenis dan relevansi data", "Type and relevance of the data"),
    "notice.item.retention": ("Jangka waktu retensi dokumen", "Retention period of documents"),
    "notice.item.details_collected": (
        "Rincian informasi yang dikumpulkan",
        "Details of the information collected",
    ),
    "notice.item.processing_period": ("Jangka waktu pemrosesan", "Processing period"),
    "notice.item.rights": ("Hak Anda sebagai subjek data", "Your rights as a data subject"),
    "notice.purposes_heading": ("Tujuan yang terdaftar", "Registered purposes"),
    "notice.superseded": (
        "Ini versi {version}, yang telah digantikan oleh versi {current}.",
        "This is version {version}, superseded by version {current}.",
    ),
    "notice.read_current": ("Baca versi yang berlaku", "Read the version in force"),
    "notice.not_current": (
        "Versi ini tidak tersedia. Versi yang berlaku adalah versi {version}.",
        "This version is not available. The version in force is version {version}.",
    ),
    # -- account
    "account.title": ("Akun saya", "My account"),
    "account.consents": ("Persetujuan saya", "My consents"),
    "account.consents_intro": (
        "Persetujuan yang Anda berikan kepada aplikasi. Penarikan berlaku seketika: aplikasi "
        "tidak lagi menerima data untuk tujuan itu (UU PDP Pasal 9 dan 40).",
        "The consents you gave to apps. A withdrawal takes effect at once: the app no longer "
        "receives the data for that purpose (UU PDP Art. 9 and 40).",
    ),
    "account.no_consents": ("Belum ada persetujuan.", "No consents yet."),
    "account.app": ("Aplikasi", "App"),
    "account.status": ("Status", "Status"),
    "account.given_at": ("Diberikan {at}", "Given {at}"),
    "account.expires_at": ("Berlaku sampai {at}", "Valid until {at}"),
    "account.withdrawal": (
        "Penarikan diterima {received}, berlaku {effective} (batas waktu {due}).",
        "Withdrawal received {received}, effective {effective} (deadline {due}).",
    ),
    "account.withdraw": ("Tarik persetujuan", "Withdraw consent"),
    "account.withdraw_label": (
        "Tarik persetujuan untuk {purpose} di {app}",
        "Withdraw consent for {purpose} at {app}",
    ),
    "account.withdrawn": (
        "Persetujuan ditarik. Aplikasi tidak lagi menerima data ini.",
        "Consent withdrawn. The app no longer receives this data.",
    ),
    "credentials.title": ("Kredensial saya", "My credentials"),
    "credentials.intro": (
        "Kartu identitas digital (SD-JWT VC) di dompet digital Anda. Anda dapat mencabut "
        "kredensial, misalnya bila ponsel hilang: setiap pemeriksa akan menolaknya.",
        "Digital identity cards (SD-JWT VC) in your wallets. You can revoke one, for example "
        "when a phone is lost: every verifier will then refuse it.",
    ),
    "credentials.none": ("Belum ada kredensial.", "No credentials yet."),
    "credentials.identity": ("Identitas digital", "Digital identity"),
    "credentials.issued_at": ("Diterbitkan {at}", "Issued {at}"),
    "credentials.revoke": ("Cabut kredensial", "Revoke credential"),
    "credentials.revoke_label": (
        "Cabut kredensial identitas di {app}",
        "Revoke the identity credential held in {app}",
    ),
    "credentials.revoked": (
        "Kredensial dicabut. Pemeriksa akan menolaknya.",
        "Credential revoked. Verifiers will refuse it.",
    ),
    "credentials.state.valid": ("berlaku", "valid"),
    "credentials.state.suspended": ("ditangguhkan", "suspended"),
    "credentials.state.revoked": ("dicabut", "revoked"),
    "credentials.age_over": ("Berusia {age} tahun ke atas", "Aged {age} or over"),
    "account.access_log": ("Siapa yang menggunakan data saya", "Who used my data"),
    "account.access_intro": (
        "Setiap penggunaan data pribadi Anda dicatat dalam log audit yang tidak dapat diubah "
        "(UU PDP Pasal 31 dan 32). Nomor entri dapat dipakai untuk meminta bukti bahwa "
        "catatan itu ada di log.",
        "Every use of your personal data is recorded in an audit log that cannot be altered "
        "(UU PDP Art. 31 and 32). The entry number lets you ask for proof that the record "
        "is in the log.",
    ),
    "account.no_access": ("Belum ada catatan.", "Nothing recorded yet."),
    "account.requests": ("Permintaan saya", "My requests"),
    "account.requests_intro": (
        "Gunakan hak Anda sebagai subjek data (UU PDP Pasal 5-13). Setiap permintaan dicatat "
        "dan diproses; batas waktunya 3 x 24 jam.",
        "Exercise your rights as a data subject (UU PDP Art. 5-13). Every request is "
        "recorded and carried out; the deadline is 3 x 24 hours.",
    ),
    "account.no_requests": ("Belum ada permintaan.", "No requests yet."),
    "account.second_factor": ("Faktor kedua", "Second factor"),
    "account.sign_out_intro": ("Akhiri sesi di perangkat ini.", "End the session on this device."),
    # -- requests
    "request.kind": ("Jenis permintaan", "Kind of request"),
    "request.kind.access": (
        "Akses: salinan data saya (Pasal 7, 32)",
        "Access: a copy of my data (Art. 7, 32)",
    ),
    "request.kind.correction": ("Koreksi data saya (Pasal 6, 30)", "Correct my data (Art. 6, 30)"),
    "request.kind.restriction": (
        "Batasi pemrosesan data saya (Pasal 11, 41)",
        "Restrict the processing of my data (Art. 11, 41)",
    ),
    "request.kind.erasure": ("Hapus data saya (Pasal 8, 43-45)", "Erase my data (Art. 8, 43-45)"),
    "request.correction_fields": (
        "Data baru, hanya untuk koreksi (kosongkan yang tidak berubah). NIK dan tanggal lahir "
        "dikoreksi melalui Dukcapil.",
        "New values, for a correction only (leave unchanged ones empty). The NIK and the "
        "birth date are corrected through Dukcapil.",
    ),
    "request.erasure_confirm": (
        "Saya mengerti bahwa penghapusan tidak dapat dibatalkan dan saya akan keluar dari Jati.",
        "I understand that erasure cannot be undone and that I will be signed out of Jati.",
    ),
    "request.to": ("Kepada siapa", "To whom"),
    "request.to_hint": (
        "Jati melaksanakan permintaan kepada Jati saat itu juga. Permintaan akses atau koreksi "
        "kepada pengendali suatu aplikasi dijawab pejabat pelindungan datanya dalam 3×24 jam.",
        "Jati carries out a request to Jati at once. An access or correction request to an "
        "app's controller is answered by its data protection officer within 3×24 hours.",
    ),
    "request.to_jati": ("Jati", "Jati itself"),
    "request.to_app": ("kepada {app}", "to {app}"),
    "request.submit": ("Kirim permintaan", "Send the request"),
    "request.received_at": ("Diterima {at}", "Received {at}"),
    "request.due_by": ("batas waktu {at}", "due by {at}"),
    "request.completed_at": ("selesai {at}", "completed {at}"),
    "request.fields": ("Data yang dikoreksi: {fields}", "Corrected: {fields}"),
    "request.download": ("Unduh data saya (JSON)", "Download my data (JSON)"),
    "request.choose_kind": ("Pilih jenis permintaan.", "Choose a kind of request."),
    "request.correction_empty": (
        "Isi setidaknya satu data baru untuk koreksi.",
        "Fill in at least one new value for a correction.",
    ),
    "request.refused": (
        "Permintaan tidak dapat diterima ({reason}). Tidak ada yang dicatat.",
        "The request cannot be accepted ({reason}). Nothing was recorded.",
    ),
    "request.done": (
        "Permintaan Anda dicatat dan diproses.",
        "Your request was recorded and carried out.",
    ),
    "request.status.received": ("diterima", "received"),
    "request.status.completed": ("selesai", "completed"),
    "request.status.refused": ("ditolak", "refused"),
    "erased.title": ("Data Anda telah dihapus", "Your data has been erased"),
    "erased.body": (
        "Kunci data Anda telah dimusnahkan, sehingga data pribadi Anda tidak lagi dapat "
        "dibaca (UU PDP Pasal 43-45). Anda telah keluar dari Jati. Yang tetap disimpan, dan "
        "dasarnya:",
        "Your data key has been destroyed, so your personal data can no longer be read (UU "
        "PDP Art. 43-45). You have been signed out of Jati. What is kept, and on what basis:",
    ),
    # -- second factor
    "totp.enabled": (
        "Aktif: setiap kali masuk, Jati meminta kode dari aplikasi autentikator Anda.",
        "On: every sign-in asks for a code from your authenticator app.",
    ),
    "totp.disabled": (
        "Belum aktif. Dengan faktor kedua, kata sandi saja tidak cukup untuk masuk ke akun Anda.",
        "Off. With a second factor, a password alone is not enough to sign in to your account.",
    ),
    "totp.enrol": ("Aktifkan faktor kedua", "Turn on a second factor"),
    "totp.enrol_title": ("Aktifkan faktor kedua", "Turn on a second factor"),
    "totp.confirm": ("Konfirmasi dan aktifkan", "Confirm and turn on"),
    "totp.disable": ("Nonaktifkan faktor kedua", "Turn off the second factor"),
    "totp.disable_intro": (
        "Masukkan kode saat ini dari aplikasi autentikator untuk menonaktifkannya.",
        "Enter a current code from your authenticator app to turn it off.",
    ),
    "totp.now_enabled": ("Faktor kedua aktif.", "The second factor is on."),
    "totp.now_disabled": ("Faktor kedua dinonaktifkan.", "The second factor is off."),
    "totp.expired": (
        "Pendaftaran sudah kedaluwarsa atau tidak ditemukan. Mulai lagi.",
        "The enrolment has expired or was not found. Start again.",
    ),
    "totp.already": (
        "Faktor kedua sudah aktif; nonaktifkan dahulu untuk mendaftarkan yang baru.",
        "A second factor is on already; turn it off first to enrol a new one.",
    ),
    # -- devices and sessions (identity/http/pages/devices.py)
    "sessions.title": ("Perangkat dan sesi", "Devices and sessions"),
    "sessions.intro": (
        "Tempat Anda sedang masuk ke Jati. Jika ada yang tidak Anda kenali, keluarkan, lalu "
        "ganti cara masuk Anda. Untuk keluar dari perangkat ini, gunakan Keluar di bawah. "
        "Jati tidak menyimpan lokasi, sehingga lokasi tidak ditampilkan.",
        "Where you are signed in to Jati. If you do not recognise one, sign it out, then "
        "change how you sign in. To sign out of this device, use Sign out below. Jati keeps "
        "no location, so none is shown.",
    ),
    "sessions.browser_on": ("{browser} di {system}", "{browser} on {system}"),
    "sessions.unknown_browser": ("Peramban tidak dikenal", "Unknown browser"),
    "sessions.this_device": ("perangkat ini", "this device"),
    "sessions.started_at": ("Mulai {at}", "Started {at}"),
    "sessions.last_seen": ("terakhir aktif {at}", "last seen {at}"),
    "sessions.restricted": (
        "Masuk dengan kode pemulihan: hanya halaman akun.",
        "Signed in with a recovery code: the account page only.",
    ),
    "sessions.end": ("Keluarkan", "Sign out"),
    "sessions.end_label": (
        "Keluarkan sesi {device} yang dimulai {at}",
        "Sign out the {device} session started {at}",
    ),
    "sessions.end_others": (
        "Keluarkan semua perangkat lain",
        "Sign out all other devices",
    ),
    "sessions.ended": ("Sesi itu telah diakhiri.", "That session has ended."),
    "sessions.others_ended": (
        "Semua sesi lain telah diakhiri.",
        "All other sessions have ended.",
    ),
    "sessions.not_current": (
        "Untuk keluar dari perangkat ini, gunakan tombol Keluar.",
        "To sign out of this device, use the Sign out button.",
    ),
    # -- TOTP set-up, recovery codes, help with signing in (totp_setup.py, recovery.py)
    "totp.setup_lead": (
        "Dengan aplikasi autentikator, masuk ke Jati memerlukan kata sandi Anda dan kode 6 "
        "angka dari ponsel Anda. Ikuti tiga langkah ini.",
        "With an authenticator app, signing in to Jati takes your password and a 6-digit code "
        "from your phone. Follow these three steps.",
    ),
    "totp.step_app": (
        "Buka aplikasi autentikator di ponsel Anda (misalnya Google Authenticator, Microsoft "
        "Authenticator, atau aplikasi lain yang mendukung TOTP) dan pilih tambah akun.",
        "Open the authenticator app on your phone (for example Google Authenticator, Microsoft "
        "Authenticator, or another app that supports TOTP) and choose to add an account.",
    ),
    "totp.step_scan": ("Pindai kode QR ini dengan aplikasi itu.", "Scan this QR code with it."),
    "totp.qr_label": (
        "Kode QR untuk menambahkan akun Jati ke aplikasi autentikator. Jika tidak dapat "
        "memindainya, ketik kunci pengaturan yang tertulis di bawahnya.",
        "QR code that adds your Jati account to an authenticator app. If you cannot scan it, "
        "type the setup key written below it.",
    ),
    "totp.cannot_scan": (
        "Tidak bisa memindai? Pilih memasukkan kunci secara manual di aplikasi, lalu ketik "
        "kunci ini. Spasinya boleh diketik atau tidak.",
        "Cannot scan? Choose to enter a key by hand in the app, then type this key. You may "
        "type the spaces or leave them out.",
    ),
    "totp.key_label": ("Kunci pengaturan", "Setup key"),
    "totp.open_app": ("Buka di aplikasi autentikator", "Open in the authenticator app"),
    "totp.link_hint": (
        "Membuka halaman ini di ponsel yang sama dengan aplikasinya? Ketuk tautan ini:",
        "Reading this page on the phone that has the app? Tap this link:",
    ),
    "totp.step_code": (
        "Ketik kode 6 angka yang sekarang ditampilkan aplikasi.",
        "Type the 6-digit code the app shows now.",
    ),
    "totp.keep_private": (
        "Jangan perlihatkan kode QR atau kunci ini kepada siapa pun: siapa pun yang memilikinya "
        "dapat membuat kode Anda. Pendaftaran ini berlaku 10 menit.",
        "Never show this QR code or key to anyone: whoever has it can make your codes. This "
        "set-up lasts 10 minutes.",
    ),
    "totp.wrong_code": (
        "Kode salah. Pastikan jam ponsel Anda tepat (pilih waktu otomatis di pengaturan), lalu "
        "ketik kode terbaru yang ditampilkan aplikasi. Kode QR dan kuncinya tetap sama, jadi "
        "Anda tidak perlu memindai ulang.",
        "The code is wrong. Make sure the time on your phone is right (choose automatic time in "
        "its settings), then type the newest code the app shows. The QR code and the key stay "
        "the same, so there is no need to scan again.",
    ),
    "totp.replace": ("Ganti aplikasi autentikator", "Replace the authenticator app"),
    "totp.replace_intro": (
        "Kehilangan ponsel dengan aplikasi autentikator? Karena Anda masuk dengan kode "
        "pemulihan, Anda dapat menggantinya tanpa kode dari aplikasi lama. Aplikasi lama "
        "langsung berhenti berlaku.",
        "Lost the phone with the authenticator app? As you signed in with a recovery code, you "
        "can replace it without a code from the old app. The old app stops working at once.",
    ),
    "recovery.title": ("Kode pemulihan Anda", "Your recovery codes"),
    "recovery.lead": (
        "Simpan sepuluh kode ini sekarang. Kode ini hanya ditampilkan satu kali.",
        "Save these ten codes now. They are shown only this once.",
    ),
    "recovery.what": (
        "Jika Anda kehilangan ponsel, aplikasi autentikator, atau passkey, satu kode pemulihan "
        "membawa Anda kembali ke halaman akun untuk menambahkan cara masuk yang baru.",
        "If you lose your phone, authenticator app or passkey, one recovery code takes you back "
        "to your account page to add a new way to sign in.",
    ),
    "recovery.keep_safe": (
        "Cetak halaman ini atau tulis kodenya di kertas, lalu simpan di tempat yang aman, "
        "terpisah dari ponsel Anda. Jangan berikan kode ini kepada siapa pun; petugas tidak "
        "pernah memintanya.",
        "Print this page or write the codes on paper, and keep them somewhere safe, away from "
        "your phone. Never give them to anyone; officials never ask for them.",
    ),
    "recovery.once": (
        "Setiap kode hanya bisa dipakai satu kali.",
        "Each code works only once.",
    ),
    "recovery.replaces": (
        "Kode ini menggantikan semua kode pemulihan Anda sebelumnya: kode lama tidak berlaku lagi.",
        "These codes replace all your earlier recovery codes: the old ones no longer work.",
    ),
    "recovery.list_label": ("Sepuluh kode pemulihan", "Ten recovery codes"),
    "recovery.saved": ("Saya sudah menyimpan kode ini", "I have saved these codes"),
    "recovery.section": ("Kode pemulihan", "Recovery codes"),
    "recovery.intro": (
        "Kode pemulihan membawa Anda kembali ke akun jika Anda kehilangan ponsel atau passkey.",
        "Recovery codes take you back into your account if you lose your phone or passkey.",
    ),
    "recovery.remaining": (
        "Kode yang belum dipakai: {count} dari 10.",
        "Codes not used yet: {count} of 10.",
    ),
    "recovery.none": (
        "Anda tidak punya kode pemulihan yang bisa dipakai.",
        "You have no recovery codes left to use.",
    ),
    "recovery.make": ("Buat kode pemulihan baru", "Make new recovery codes"),
    "recovery.make_hint": (
        "Kode baru menggantikan semua kode lama: kode lama langsung berhenti berlaku.",
        "New codes replace all the old ones: the old codes stop working at once.",
    ),
    "recovery.banner_title": (
        "Anda masuk dengan kode pemulihan",
        "You signed in with a recovery code",
    ),
    "recovery.banner": (
        "Sesi ini hanya membuka halaman akun. Tambahkan cara masuk yang baru: passkey, atau "
        "aplikasi autentikator di bagian Faktor kedua. Setelah itu keluar, lalu masuk lagi "
        "dengan cara yang baru untuk memakai aplikasi layanan.",
        "This session opens only your account page. Add a new way to sign in: a passkey, or "
        "an authenticator app under Second factor. Then sign out and sign in again the new way "
        "to use services' apps.",
    ),
    "recovery.banner_link": ("Ke bagian Faktor kedua", "Go to Second factor"),
    "recovery.banner_passkeys": ("Ke bagian Passkey", "Go to Passkeys"),
    "recovery_login.title": ("Masuk dengan kode pemulihan", "Sign in with a recovery code"),
    "recovery_login.lead": (
        "Masukkan salah satu kode pemulihan Anda sebagai pengganti kode dari aplikasi "
        "autentikator.",
        "Enter one of your recovery codes instead of the code from your authenticator app.",
    ),
    "recovery_login.lead_no_password": (
        "Untuk akun tanpa kata sandi (hanya passkey): masukkan NIK, tanggal lahir, dan salah "
        "satu kode pemulihan Anda.",
        "For an account without a password (passkeys only): enter your NIK, date of birth and "
        "one of your recovery codes.",
    ),
    "recovery_login.has_password": (
        "Punya kata sandi? Masuk dulu dengan NIK dan kata sandi; di langkah kode, pilih "
        "\u201cPakai kode pemulihan\u201d.",
        "Have a password? Sign in with your NIK and password first; at the code step, choose "
        "\u201cUse a recovery code\u201d.",
    ),
    "recovery_login.restricted": (
        "Dengan kode pemulihan Anda masuk ke halaman akun saja, untuk menambahkan cara masuk "
        "yang baru.",
        "A recovery code opens your account page only, where you add a new way to sign in.",
    ),
    "recovery_login.code": ("Kode pemulihan", "Recovery code"),
    "recovery_login.code_hint": (
        "16 huruf dan angka dalam empat kelompok, misalnya 7KQ2-M9XD-4HPA-T3VE. Tanda hubung "
        "dan huruf kecil tidak masalah.",
        "16 letters and digits in four groups, for example 7KQ2-M9XD-4HPA-T3VE. Hyphens and "
        "small letters are fine.",
    ),
    "recovery_login.submit": ("Masuk ke akun saya", "Open my account"),
    "recovery_login.refused": (
        "Kode pemulihan salah atau sudah pernah dipakai. Periksa kodenya, atau pakai kode lain "
        "dari daftar Anda.",
        "The recovery code is wrong or was used already. Check it, or use another code from "
        "your list.",
    ),
    "recovery_login.refused_nik": (
        "NIK, tanggal lahir, atau kode pemulihan tidak cocok, atau kode itu sudah pernah "
        "dipakai. Periksa isian Anda, atau pakai kode lain dari daftar Anda.",
        "The NIK, the date of birth or the recovery code does not match, or the code was used "
        "already. Check what you typed, or use another code from your list.",
    ),
    "recovery_login.malformed": (
        "Kode pemulihan terdiri dari 16 huruf dan angka dalam empat kelompok. Periksa kode yang "
        "Anda ketik.",
        "A recovery code is 16 letters and digits in four groups. Check the code you typed.",
    ),
    "recovery_login.missing_code": (
        "Ketik salah satu kode pemulihan Anda.",
        "Type one of your recovery codes.",
    ),
    "recovery_login.use_code": ("Pakai kode pemulihan", "Use a recovery code"),
    "recovery_login.no_phone": (
        "Tidak ada ponsel dengan aplikasi autentikator?",
        "No phone with the authenticator app?",
    ),
    "help.link": ("Tidak bisa masuk?", "Cannot sign in?"),
    "help.title": ("Tidak bisa masuk?", "Cannot sign in?"),
    "help.lead": (
        "Ada dua jalan kembali ke akun Anda: kode pemulihan yang Anda simpan, atau loket Dukcapil.",
        "There are two ways back into your account: the recovery codes you saved, or a "
        "Dukcapil counter.",
    ),
    "help.codes_heading": ("Jika Anda punya kode pemulihan", "If you have recovery codes"),
    "help.codes_body": (
        "Kode pemulihan adalah sepuluh kode yang ditampilkan saat Anda memasang aplikasi "
        "autentikator atau passkey. Satu kode membuka halaman akun Anda, tempat Anda "
        "menambahkan cara masuk yang baru. Setiap kode hanya bisa dipakai satu kali.",
        "Recovery codes are the ten codes shown when you set up an authenticator app or a "
        "passkey. One code opens your account page, where you add a new way to sign in. Each "
        "code works only once.",
    ),
    "help.codes_password": (
        "Punya kata sandi: masuk dengan NIK dan kata sandi, lalu di langkah kode pilih "
        "\u201cPakai kode pemulihan\u201d.",
        "With a password: sign in with your NIK and password, then at the code step choose "
        "\u201cUse a recovery code\u201d.",
    ),
    "help.codes_passkey": (
        "Hanya passkey, tanpa kata sandi: masuk dengan NIK, tanggal lahir, dan kode pemulihan.",
        "Passkeys only, no password: sign in with your NIK, date of birth and a recovery code.",
    ),
    "help.counter_heading": (
        "Jika Anda tidak punya kode pemulihan, atau lupa kata sandi",
        "If you have no recovery codes, or forgot your password",
    ),
    "help.counter_body": (
        "Datanglah ke loket Dukcapil dengan KTP Anda. Petugas memeriksa identitas Anda secara "
        "langsung, lalu memberikan kode aktivasi yang baru.",
        "Go to a Dukcapil counter with your identity card (KTP). An officer checks your "
        "identity in person, then gives you a new activation code.",
    ),
    "help.counter_effect": (
        "Semua cara masuk yang lama dihentikan: kata sandi, passkey, aplikasi autentikator, "
        "kode pemulihan, dan semua sesi. Data pribadi dan persetujuan Anda tetap tersimpan. "
        "Dengan kode yang baru, aktifkan akun Anda lagi.",
        "Every old way in is stopped: password, passkeys, authenticator app, recovery codes "
        "and all sessions. Your personal data and consents are kept. With the new code, "
        "activate your account again.",
    ),
    "help.activate_link": ("Aktifkan akun dengan kode baru", "Activate with a new code"),
    "help.wait_heading": (
        "Jika muncul \u201cTerlalu banyak percobaan\u201d",
        "If you see \u201cToo many attempts\u201d",
    ),
    "help.wait_body": (
        "Setelah beberapa kali salah, Jati menghentikan percobaan masuk sebentar untuk "
        "melindungi akun Anda. Tunggu waktu yang disebutkan, lalu coba lagi dengan teliti.",
        "After several wrong tries, Jati pauses sign-in attempts for a while to protect your "
        "account. Wait for the time shown, then try again carefully.",
    ),
    "help.time_heading": (
        "Jika kode dari aplikasi autentikator selalu salah",
        "If the code from your authenticator app is always wrong",
    ),
    "help.time_body": (
        "Kode bergantung pada jam ponsel. Pilih waktu otomatis di pengaturan ponsel, lalu ketik "
        "kode terbaru.",
        "The codes depend on the phone's clock. Choose automatic time in the phone's settings, "
        "then type the newest code.",
    ),
    "help.never_ask": (
        "Petugas tidak pernah meminta kata sandi, kode dari aplikasi, atau kode pemulihan Anda.",
        "Officials never ask for your password, app codes or recovery codes.",
    ),
    # -- passkeys (identity/http/pages/passkeys.py): sign-in, account, activation
    "passkey.signin.title": ("Masuk dengan passkey", "Sign in with a passkey"),
    "passkey.signin.heading": ("Masuk dengan passkey", "Sign in with a passkey"),
    "passkey.signin.intro": (
        "Pakai sidik jari, wajah, atau PIN perangkat Anda. Anda tidak perlu mengetik NIK "
        "atau kata sandi.",
        "Use your fingerprint, face or device PIN. You do not need to type your NIK or a password.",
    ),
    "passkey.signin.button": ("Masuk dengan passkey", "Sign in with a passkey"),
    "passkey.signin.or_password": (
        "Atau masuk dengan NIK dan kata sandi:",
        "Or sign in with your NIK and password:",
    ),
    "passkey.step_up": (
        "{app} meminta verifikasi tambahan. Masuk lagi dengan passkey Anda.",
        "{app} asks for an extra check. Sign in again with your passkey.",
    ),
    "passkey.unsupported": (
        "Untuk memakai passkey, buka halaman ini di browser yang mendukung passkey, dengan "
        "JavaScript aktif.",
        "To use a passkey, open this page in a browser that supports passkeys, with "
        "JavaScript turned on.",
    ),
    "passkey.other_way": ("Masuk dengan cara lain", "Sign in another way"),
    "passkey.try_again": ("Coba lagi", "Try again"),
    "passkey.help": ("Tidak bisa masuk?", "Can't sign in?"),
    "passkey.cancelled": (
        "Passkey tidak dipakai. Coba lagi, atau masuk dengan cara lain.",
        "No passkey was used. Try again, or sign in another way.",
    ),
    "passkey.script_failed": (
        "Passkey tidak dapat dipakai sekarang. Coba lagi, atau masuk dengan cara lain.",
        "The passkey cannot be used right now. Try again, or sign in another way.",
    ),
    "passkey.refused.title": ("Passkey tidak dapat dipakai", "The passkey could not be used"),
    "passkey.refused": (
        "Passkey ini tidak dapat dipakai kali ini. Mulai lagi dari awal. Jika tetap gagal, "
        "masuk dengan cara lain.",
        "This passkey could not be used this time. Start again. If it still fails, sign in "
        "another way.",
    ),
    "passkey.cloned": (
        "Demi keamanan akun Anda, passkey ini ditolak: ada tanda bahwa salinannya dipakai di "
        "tempat lain. Masuk dengan cara lain (kata sandi atau kode pemulihan), lalu hapus "
        "passkey ini di halaman akun Anda.",
        "To keep your account safe, this passkey was refused: there are signs that a copy of "
        "it is used somewhere else. Sign in another way (password or recovery code), then "
        "remove this passkey on your account page.",
    ),
    "passkeys.heading": ("Passkey", "Passkeys"),
    "passkeys.intro": (
        "Dengan passkey, Anda masuk memakai sidik jari, wajah, atau PIN perangkat, tanpa "
        "kata sandi. Passkey hanya bekerja di Jati, sehingga tidak dapat dipancing oleh situs "
        "palsu.",
        "With a passkey you sign in with your fingerprint, face or device PIN, without a "
        "password. A passkey works only on Jati, so a fake site cannot trick it out of you.",
    ),
    "passkeys.none": ("Anda belum punya passkey.", "You have no passkey yet."),
    "passkeys.created": ("Dibuat {at}", "Created {at}"),
    "passkeys.last_used": ("terakhir dipakai {at}", "last used {at}"),
    "passkeys.never_used": ("belum pernah dipakai", "never used"),
    "passkeys.name": ("Nama passkey (boleh kosong)", "Passkey name (optional)"),
    "passkeys.name_hint": (
        "Supaya Anda mengenalinya nanti, misalnya: Ponsel saya. Paling banyak 64 karakter.",
        "So that you recognise it later, for example: My phone. At most 64 characters.",
    ),
    "passkeys.new_name": ("Nama", "Name"),
    "passkeys.rename": ("Ganti nama", "Rename"),
    "passkeys.rename_label": ("Ganti nama passkey {name}", "Rename the passkey {name}"),
    "passkeys.remove": ("Hapus passkey", "Remove the passkey"),
    "passkeys.remove_label": ("Hapus passkey {name}", "Remove the passkey {name}"),
    "passkeys.add": ("Tambah passkey", "Add a passkey"),
    "passkeys.added": ("Passkey ditambahkan.", "The passkey was added."),
    "passkeys.renamed": ("Nama passkey diganti.", "The passkey was renamed."),
    "passkeys.removed": ("Passkey dihapus.", "The passkey was removed."),
    "passkeys.user_display": ("Akun Jati", "Jati account"),
    "passkeys.signed_out": (
        "Sesi Anda telah berakhir. Masuk lagi.",
        "Your session has ended. Sign in again.",
    ),
    "passkeys.not_found": (
        "Passkey ini tidak ditemukan. Mungkin sudah dihapus.",
        "This passkey was not found. It may have been removed already.",
    ),
    "passkeys.last_one": (
        "Ini satu-satunya cara Anda masuk. Tambahkan passkey lain dulu, lalu hapus yang ini.",
        "This is your only way to sign in. Add another passkey first, then remove this one.",
    ),
    "passkeys.bad_name": (
        "Nama passkey paling banyak 64 karakter, berupa huruf, angka, spasi, dan tanda baca.",
        "A passkey name has at most 64 characters: letters, digits, spaces and punctuation.",
    ),
    "passkeys.duplicate": (
        "Passkey ini sudah terdaftar. Anda dapat memakainya untuk masuk.",
        "This passkey is registered already. You can use it to sign in.",
    ),
    "passkeys.too_many": (
        "Anda sudah punya {limit} passkey, jumlah terbanyak. Hapus satu dahulu.",
        "You have {limit} passkeys, the most allowed. Remove one first.",
    ),
    "activate.passkey.heading": ("Buat passkey (disarankan)", "Create a passkey (recommended)"),
    "activate.passkey.intro": (
        "Kode aktivasi Anda benar. Cara termudah dan teraman untuk masuk adalah passkey: "
        "perangkat Anda menyimpannya dan membukanya dengan sidik jari, wajah, atau PIN. Tidak "
        "ada kata sandi yang harus diingat, dan tidak ada orang lain, termasuk petugas, yang "
        "dapat memakainya.",
        "Your activation code is right. The easiest and safest way to sign in is a passkey: "
        "your device keeps it and opens it with your fingerprint, face or PIN. There is no "
        "password to remember, and nobody else, officials included, can use it.",
    ),
    "activate.passkey.submit": ("Buat passkey dan masuk", "Create a passkey and sign in"),
    "activate.passkey.or_password": ("Atau pilih kata sandi", "Or choose a password"),
    "activate.passkey.done": (
        "Akun Anda aktif dan passkey Anda siap dipakai.",
        "Your account is active and your passkey is ready to use.",
    ),
    # -- logout
    "logged_out.title": ("Anda telah keluar", "You are signed out"),
    "logged_out.body": (
        "Sesi Anda di perangkat ini telah diakhiri.",
        "Your session on this device has ended.",
    ),
    "end_session.title": ("Keluar dari Jati?", "Sign out of Jati?"),
    "end_session.body": (
        "Sebuah situs atau aplikasi meminta Anda keluar dari Jati di perangkat ini.",
        "A site or an app asks to sign you out of Jati on this device.",
    ),
    "end_session.advice": (
        "Keluar hanya jika Anda sendiri yang memintanya. Jika batal, Anda tetap masuk.",
        "Sign out only if you asked for it yourself. If you cancel, you stay signed in.",
    ),
    "end_session.for_app": (
        "{app} meminta Anda keluar dari Jati di perangkat ini.",
        "{app} asks to sign you out of Jati on this device.",
    ),
    "end_session.confirm": ("Ya, keluar", "Yes, sign out"),
    "end_session.cancel": ("Batal, tetap masuk", "Cancel, stay signed in"),
    "end_session.invalid": (
        "Permintaan keluar ini tidak sah atau sudah tidak berlaku.",
        "This sign-out request is not valid.",
    ),
    # -- grant status
    "status.active": ("aktif", "active"),
    "status.refused": ("ditolak", "refused"),
    "status.withdrawn": ("ditarik", "withdrawn"),
    "status.expired": ("berakhir", "expired"),
    "status.needs_reconfirmation": ("perlu dikonfirmasi ulang", "needs re-confirmation"),
    # -- the activity story (identity/http/pages/story.py)
    "story.and": ("dan", "and"),
    "story.use": ("{items} Anda untuk {purpose}", "your {items} for {purpose}"),
    "story.your_data": ("data", "data"),
    "story.no_purpose": ("tujuan yang tidak disebut", "an unnamed purpose"),
    "story.you": ("Anda", "You"),
    "story.official": ("Petugas {id}", "Official {id}"),
    "story.release": ("{app} menerima {uses}.", "{app} received {uses}."),
    "story.release_refused": (
        "{app} meminta {uses}, tetapi Jati menolak dan tidak memberikan apa pun: tidak ada "
        "dasar yang berlaku (misalnya persetujuan Anda telah dicabut atau pemrosesan dibatasi).",
        "{app} asked for {uses}, but Jati refused and gave nothing: no basis held (for "
        "example, your consent was withdrawn or processing is restricted).",
    ),
    "story.release_none": (
        "{app} diberi tahu bahwa Anda masuk, tanpa data pribadi Anda, untuk {purposes}.",
        "{app} was told that you signed in, without any of your personal data, for {purposes}.",
    ),
    "story.consent_given": (
        "Anda memberi persetujuan kepada {app} untuk {purposes}.",
        "You gave {app} your consent for {purposes}.",
    ),
    "story.consent_refused": (
        "Anda tidak memberi persetujuan kepada {app} untuk {purposes}.",
        "You did not give {app} your consent for {purposes}.",
    ),
    "story.consent_withdrawn": (
        "Anda menarik persetujuan Anda kepada {app} untuk {purposes}.",
        "You withdrew your consent to {app} for {purposes}.",
    ),
    "story.consent_expired": (
        "Persetujuan Anda kepada {app} untuk {purposes} berakhir.",
        "Your consent to {app} for {purposes} ended.",
    ),
    "story.credential_issued": (
        "{app} menerima kredensial identitas digital Anda untuk {purposes}.",
        "{app} received your digital identity credential for {purposes}.",
    ),
    "story.credential_revoked": (
        "Kredensial identitas digital Anda di {app} dicabut.",
        "Your digital identity credential in {app} was revoked.",
    ),
    "story.sign_in": ("Anda masuk ke Jati.", "You signed in to Jati."),
    "story.sign_in_with": (
        "Anda masuk ke Jati dengan {items}.",
        "You signed in to Jati with {items}.",
    ),
    "story.sign_in_refused": (
        "Ada percobaan masuk ke akun Anda yang ditolak.",
        "An attempt to sign in to your account was refused.",
    ),
    "story.method.passkey": ("passkey", "a passkey"),
    "story.method.recovery_codes": ("kode pemulihan", "a recovery code"),
    "story.method.totp": ("aplikasi autentikator", "an authenticator app"),
    "story.jati_check": ("Jati {verb} {uses}.", "Jati {verb} {uses}."),
    "story.processed": ("{who} {verb} {uses}.", "{who} {verb} {uses}."),
    "story.you.request": (
        "Anda mengajukan permintaan: {purposes}.",
        "You filed a request: {purposes}.",
    ),
    "story.you.create": (
        "Anda menambahkan {items} ({purposes}).",
        "You added {items} ({purposes}).",
    ),
    "story.you.update": (
        "Anda mengubah {items} ({purposes}).",
        "You changed {items} ({purposes}).",
    ),
    "story.you.erase": ("Anda menghapus {items} ({purposes}).", "You erased {items} ({purposes})."),
    "story.you.restrict": (
        "Anda membatasi pemrosesan {items} ({purposes}).",
        "You restricted the processing of {items} ({purposes}).",
    ),
    "story.you.export": (
        "Anda mengunduh salinan {items} ({purposes}).",
        "You downloaded a copy of {items} ({purposes}).",
    ),
    "story.you.read": ("Anda membaca {items} ({purposes}).", "You read {items} ({purposes})."),
    "story.you.disclose": (
        "Anda membagikan {items} ({purposes}).",
        "You shared {items} ({purposes}).",
    ),
    "story.you.token_issued": (
        "Anda menerima token untuk {purposes}.",
        "You received a token for {purposes}.",
    ),
    "story.verb.read": ("membaca", "read"),
    "story.verb.disclose": ("mengungkapkan", "disclosed"),
    "story.verb.create": ("mencatat", "recorded"),
    "story.verb.update": ("memperbarui", "updated"),
    "story.verb.erase": ("menghapus", "erased"),
    "story.verb.restrict": ("membatasi pemrosesan", "restricted the processing of"),
    "story.verb.export": ("mengekspor", "exported"),
    "story.verb.token_issued": ("menerbitkan token berisi", "issued a token carrying"),
    "story.refused": ("Permintaan ini ditolak.", "This was refused."),
    "story.pending": ("sedang dicatat", "being recorded"),
    "story.entries": (
        "Catatan teknis ({count} entri log)",
        "Technical record ({count} log entries)",
    ),
    "story.leaf": ("entri log nomor {index}", "log entry number {index}"),
    "story.queued": ("entri log yang belum diberi nomor", "a log entry not yet numbered"),
    "story.proof": ("Bukti inklusi (RFC 9162)", "Inclusion proof (RFC 9162)"),
    "story.proof_pending": (
        "bukti inklusi tersedia setelah dicatat",
        "its inclusion proof is available once recorded",
    ),
    # -- the activity page (identity/http/pages/activity.py)
    "activity.filters": ("Saring catatan", "Filter the record"),
    "activity.app": ("Aplikasi", "App"),
    "activity.all_apps": ("Semua aplikasi", "All apps"),
    "activity.period": ("Periode", "Period"),
    "activity.all_time": ("Sepanjang waktu", "All time"),
    "activity.days": ("{days} hari terakhir", "Last {days} days"),
    "activity.zone": ("Zona waktu", "Time zone"),
    "activity.show": ("Tampilkan", "Show"),
    "activity.events": ("Kejadian, terbaru di atas", "Events, newest first"),
    "activity.no_match": (
        "Tidak ada catatan untuk pilihan ini.",
        "Nothing is recorded for this choice.",
    ),
    "activity.pages": ("Halaman catatan", "Pages of the record"),
    "activity.older": ("Catatan lebih lama", "Older events"),
    "activity.newest": ("Kembali ke yang terbaru", "Back to the newest"),
    "activity.see_all": (
        "Lihat seluruh catatan, saring menurut aplikasi atau periode",
        "See the whole record, filtered by app or period",
    ),
    # -- erasure (identity/http/pages/erasure.py)
    "erase.title": ("Hapus akun dan data saya", "Erase my account and data"),
    "erase.link": ("Ke halaman penghapusan akun", "Go to the erasure page"),
    "erase.account_intro": (
        "Penghapusan ada di halamannya sendiri: halaman itu menjelaskan apa yang hilang dan "
        "meminta Anda membuktikan bahwa ini memang Anda.",
        "Erasure has its own page: it explains what goes and asks you to prove that it is "
        "really you.",
    ),
    "erase.lead": (
        "Jika Anda melanjutkan, Jati memusnahkan data pribadi Anda sehingga tidak dapat lagi "
        "mengenali Anda. Ini tidak dapat dibatalkan.",
        "If you go on, Jati destroys your personal data so that it can no longer identify "
        "you. This cannot be undone.",
    ),
    "erase.what_goes": ("Apa yang dihapus", "What is erased"),
    "erase.what_goes_intro": (
        "Data pribadi Anda dan semua cara untuk masuk ke akun ini:",
        "Your personal data and every way to sign in to this account:",
    ),
    "erase.apps": ("Layanan yang kehilangan akses", "Services that lose access"),
    "erase.apps_intro": (
        "Setiap aplikasi yang terhubung dengan akun ini tidak lagi menerima data Anda, "
        "seketika, dan token yang sudah diterimanya berhenti berlaku. Anda tidak bisa lagi "
        "masuk ke aplikasi-aplikasi ini dengan Jati.",
        "Every app connected to this account stops receiving your data at once, and the "
        "tokens it already holds stop working. You can no longer sign in to these apps with "
        "Jati.",
    ),
    "erase.no_apps": (
        "Saat ini tidak ada aplikasi yang terhubung dengan akun Anda.",
        "No app is connected to your account at the moment.",
    ),
    "erase.kept": ("Apa yang tetap disimpan, dan mengapa", "What is kept, and why"),
    "erase.cite": ("UU PDP Pasal 8, 43 sampai 45", "UU PDP Art. 8, 43 to 45"),
    "erase.confirm_heading": ("Konfirmasi penghapusan", "Confirm the erasure"),
    "erase.final": (
        "Penghapusan tidak dapat dibatalkan. Untuk memakai Jati lagi, Anda harus didaftarkan "
        "ulang di loket sebagai akun baru.",
        "Erasure cannot be undone. To use Jati again you must be registered again at the "
        "counter, as a new account.",
    ),
    "erase.password": ("Kata sandi Anda", "Your password"),
    "erase.code_hint": (
        "Kode 6 angka dari aplikasi autentikator Anda.",
        "The 6-digit code from your authenticator app.",
    ),
    "erase.passkey_heading": ("Atau konfirmasi dengan passkey", "Or confirm with a passkey"),
    "erase.submit": ("Hapus akun dan data saya", "Erase my account and data"),
    "erase.submit_passkey": (
        "Konfirmasi dengan passkey dan hapus",
        "Confirm with a passkey and erase",
    ),
    "erase.cancel": ("Batal, kembali ke akun saya", "Cancel, back to my account"),
    "erase.confirm": (
        "Centang pernyataan untuk menghapus akun Anda. Tidak ada yang dihapus.",
        "Tick the statement to erase your account. Nothing was erased.",
    ),
    "erase.password_missing": (
        "Masukkan kata sandi Anda. Tidak ada yang dihapus.",
        "Enter your password. Nothing was erased.",
    ),
    "erase.password_wrong": (
        "Kata sandi salah. Tidak ada yang dihapus.",
        "The password is wrong. Nothing was erased.",
    ),
    "erase.code_wrong": (
        "Kode salah atau sudah dipakai. Tidak ada yang dihapus.",
        "The code is wrong or was used already. Nothing was erased.",
    ),
    "erase.passkey_refused": (
        "Passkey tidak dapat diperiksa. Tidak ada yang dihapus.",
        "The passkey could not be checked. Nothing was erased.",
    ),
    "erase.passkey_not_yours": (
        "Passkey itu milik akun lain. Tidak ada yang dihapus.",
        "That passkey belongs to another account. Nothing was erased.",
    ),
    "erase.choose_method": (
        "Buktikan bahwa ini Anda dengan salah satu cara di bawah. Tidak ada yang dihapus.",
        "Prove that it is you in one of the ways below. Nothing was erased.",
    ),
    "request.erasure_own_page": (
        "Penghapusan dilakukan di halaman Hapus akun dan data saya.",
        "Erasure is done on the Erase my account and data page.",
    ),
    # -- a form kept across an expired session (identity/http/pages/intent.py)
    "intent.waiting": (
        "Sesi berakhir; permintaan belum dikirim. Masuk lagi, lalu Anda kembali ke formulir "
        "Anda dengan isian yang sama.",
        "Your session ended; your request was not sent. Sign in again and you return to your "
        "form, filled in as you left it.",
    ),
    "intent.title": ("Permintaan belum dikirim", "Your request was not sent"),
    "intent.refilled": (
        "Sesi Anda berakhir sebelum permintaan terkirim, jadi belum ada yang dilakukan. "
        "Isian Anda sudah dikembalikan: periksa, lalu kirim lagi.",
        "Your session ended before your request was sent, so nothing was done. Your form is "
        "filled in again: check it, then send it.",
    ),
    # -- the console (identity/http/console/pages.py)
    "console.home": ("Konsol", "Console"),
    "console.email": ("Email dinas", "Work email"),
    "console.code_hint": (
        "Kode 6 angka dari aplikasi autentikator Anda. Staf selalu memakai faktor kedua.",
        "The 6-digit code from your authenticator app. Staff always use a second factor.",
    ),
    "console.login.title": ("Masuk ke konsol Jati", "Sign in to the Jati console"),
    "console.login.intro": (
        "Untuk operator, pejabat pelindungan data dan auditor. Warga masuk di halaman lain.",
        "For operators, data protection officers and auditors. Citizens sign in elsewhere.",
    ),
    "console.login.submit": ("Masuk", "Sign in"),
    "console.login.refused": (
        "Email, kata sandi atau kode salah. Coba lagi.",
        "The email, password or code is wrong. Try again.",
    ),
    "console.activated": (
        "Akun staf Anda aktif. Silakan masuk.",
        "Your staff account is active. Please sign in.",
    ),
    "console.activate.title": ("Aktifkan akun staf", "Activate a staff account"),
    "console.activate.intro": ("Akun baru?", "A new account?"),
    "console.activate.lead": (
        "Masukkan email dinas Anda dan kode aktivasi yang diberikan operator.",
        "Enter your work email and the activation code the operator gave you.",
    ),
    "console.activate.next": ("Lanjut", "Next"),
    "console.activate.refused": (
        "Email atau kode aktivasi tidak cocok, atau kode sudah tidak berlaku.",
        "The email or activation code does not match, or the code is no longer valid.",
    ),
    "console.activate.expired": (
        "Langkah ini sudah kedaluwarsa. Mulai lagi dengan kode aktivasi Anda.",
        "This step has expired. Start again with your activation code.",
    ),
    "console.setup.title": (
        "Kata sandi dan aplikasi autentikator",
        "Password and authenticator app",
    ),
    "console.setup.lead": (
        "Pilih kata sandi, lalu hubungkan aplikasi autentikator: keduanya diperlukan setiap "
        "kali masuk.",
        "Choose a password, then link an authenticator app: you need both at every sign-in.",
    ),
    "console.setup.password": ("Kata sandi baru", "New password"),
    "console.setup.password_hint": (
        "Paling sedikit {chars} karakter.",
        "At least {chars} characters.",
    ),
    "console.setup.password_again": ("Ulangi kata sandi", "The password again"),
    "console.setup.app": ("Aplikasi autentikator", "Authenticator app"),
    "console.setup.app_intro": (
        "Pindai kode QR dengan aplikasi autentikator Anda, lalu ketik kode yang ditunjukkannya.",
        "Scan the QR code with your authenticator app, then type the code it shows.",
    ),
    "console.setup.submit": ("Aktifkan akun", "Activate the account"),
    "console.setup.mismatch": (
        "Kedua kata sandi tidak sama. Akun belum aktif.",
        "The two passwords differ. The account is not active yet.",
    ),
    "console.setup.short": (
        "Kata sandi terlalu pendek: paling sedikit {chars} karakter. Akun belum aktif.",
        "The password is too short: at least {chars} characters. The account is not active yet.",
    ),
    "console.setup.code_wrong": (
        "Kode dari aplikasi salah, atau langkah ini sudah tidak berlaku. Akun belum aktif.",
        "The app's code is wrong, or this step is no longer valid. The account is not active yet.",
    ),
    "console.signed_out.title": ("Masuk ke konsol dulu", "Sign in to the console first"),
    "console.signed_out": (
        "Halaman ini untuk staf yang sudah masuk ke konsol.",
        "This page is for staff signed in to the console.",
    ),
    "console.forbidden.title": ("Bukan untuk peran Anda", "Not for your role"),
    "console.forbidden": (
        "Halaman ini untuk peran staf yang lain.",
        "This page is for another staff role.",
    ),
    "console.welcome": ("Anda masuk sebagai {name}.", "You are signed in as {name}."),
    "console.role": ("Peran", "Role"),
    "console.role.operator": ("Operator", "Operator"),
    "console.role.dpo": ("Pejabat pelindungan data", "Data protection officer"),
    "console.role.auditor": ("Auditor", "Auditor"),
    "console.apps": ("Aplikasi yang menjadi tanggung jawab Anda", "Apps you answer for"),
    "console.pages": ("Halaman Anda", "Your pages"),
    "console.audited": (
        "Setiap tindakan di konsol dicatat di log audit atas nama Anda.",
        "Every act in the console is recorded in the audit log under your name.",
    ),
    "console.status.title": ("Status layanan", "Service status"),
    "console.status.intro": (
        "Pemeriksaan di balik /readyz, antrean log audit dan checkpoint terakhir.",
        "The checks behind /readyz, the audit log's queue and the latest checkpoint.",
    ),
    "console.integrity.title": ("Integritas log audit", "Audit log integrity"),
    "console.integrity.intro": (
        "Checkpoint bertanda tangan terbaru, hasil verifikasi penuh terakhir dan antrean log.",
        "The latest signed checkpoints, the last full verification and the log's queue.",
    ),
    "console.checks": ("Pemeriksaan", "Checks"),
    "console.ok": ("Baik.", "Fine."),
    "console.check.schema": ("Skema basis data", "Database schema"),
    "console.check.schema_behind": (
        "Belum mutakhir: jalankan jati db upgrade.",
        "Behind: run jati db upgrade.",
    ),
    "console.check.sequencer": ("Sekuenser log audit", "Audit log sequencer"),
    "console.check.sequencer_failed": (
        "Log yang tersimpan tidak lagi memperpanjang checkpoint-nya: jalankan jati audit verify.",
        "The stored log no longer extends its checkpoints: run jati audit verify.",
    ),
    "console.check.verify": ("Verifikasi penuh terakhir", "Last full verification"),
    "console.check.verify_ok": (
        "Lulus pada {at}: {entries} entri diperiksa.",
        "Passed at {at}: {entries} entries checked.",
    ),
    "console.check.verify_failed": (
        "GAGAL pada {at} ({entries} entri): temuan pertama di bawah.",
        "FAILED at {at} ({entries} entries): the first finding below.",
    ),
    "console.check.verify_never": (
        "Belum pernah dijalankan di host ini.",
        "Not run on this host yet.",
    ),
    "console.check.queue": ("Antrean log audit", "Audit log queue"),
    "console.check.queue_state": (
        "{count} entri menunggu masuk ke pohon.",
        "{count} entries waiting to join the tree.",
    ),
    "console.check.queue_oldest": ("Yang tertua sejak {at}.", "The oldest since {at}."),
    "console.checkpoints": ("Checkpoint bertanda tangan", "Signed checkpoints"),
    "console.checkpoint": (
        "Ukuran pohon {size}, ditandatangani {at}.",
        "Tree size {size}, signed {at}.",
    ),
    "console.checkpoint_note": ("Catatan bertanda tangan (C2SP)", "Signed note (C2SP)"),
    "console.no_checkpoint": ("Belum ada checkpoint.", "No checkpoint yet."),
    "console.apps.title": ("Aplikasi pengandal", "Relying apps"),
    "console.apps.intro": (
        "Aplikasi yang memakai Jati untuk masuk dan menerima data, dengan aturan yang sama "
        "seperti jati client add.",
        "The apps that use Jati to sign in and receive data, with the same rules as "
        "jati client add.",
    ),
    "console.apps.shown_once": (
        "Simpan sekarang: rahasia ini hanya ditampilkan sekali (Jati hanya menyimpan hash-nya).",
        "Keep it now: this secret is shown only once (Jati keeps only its hash).",
    ),
    "console.apps.client_id": ("ID klien (client_id)", "Client id (client_id)"),
    "console.apps.client_secret": (
        "Rahasia klien (client_secret)",
        "Client secret (client_secret)",
    ),
    "console.apps.rotate": ("Ganti rahasia", "Replace the secret"),
    "console.apps.rotate_label": ("Ganti rahasia {app}", "Replace the secret of {app}"),
    "console.apps.register": ("Daftarkan aplikasi", "Register an app"),
    "console.apps.name": (
        "Nama aplikasi, seperti dilihat warga",
        "The app's name, as citizens see it",
    ),
    "console.apps.redirect_uris": ("URI pengalihan", "Redirect URIs"),
    "console.apps.redirect_hint": (
        "Satu per baris, persis; https (http hanya untuk localhost).",
        "One a line, exact; https (http only on localhost).",
    ),
    "console.apps.scope": ("Cakupan (scope)", "Scope"),
    "console.apps.grant": ("Cara aplikasi memperoleh token", "How the app gets tokens"),
    "console.apps.grant_code": (
        "Kode otorisasi: warga masuk melalui Jati",
        "Authorization code: citizens sign in through Jati",
    ),
    "console.apps.grant_cc": (
        "Kredensial klien: aplikasi auditor, tanpa warga",
        "Client credentials: an auditor's app, no citizen",
    ),
    "console.apps.refused": (
        "Aplikasi tidak didaftarkan. Aturan yang dilanggar:",
        "The app was not registered. The rule broken:",
    ),
    "console.apps.no_secret": (
        "Aplikasi itu tidak ada, atau masuk dengan kuncinya sendiri, bukan rahasia.",
        "That app does not exist, or signs in with its own keys, not a secret.",
    ),
    "console.breach.title": ("Laporan kegagalan pelindungan data", "Personal data breach report"),
    "console.breach.intro": (
        "Warga yang datanya diakses suatu aplikasi dalam suatu rentang waktu, untuk "
        "pemberitahuan UU PDP Pasal 46 (paling lambat 3×24 jam).",
        "The citizens whose data an app accessed in a window, for the notice of UU PDP "
        "Art. 46 (within 3×24 hours).",
    ),
    "console.breach.form": ("Aplikasi dan rentang waktu", "App and window"),
    "console.breach.no_contacts": (
        "Kontak warga hanya dibaca oleh pejabat pelindungan data pengendali, yang wajib "
        "memberi tahu mereka (UU PDP Pasal 46).",
        "Citizens' contacts are read only by the controller's data protection officer, who "
        "must notify them (UU PDP Art. 46).",
    ),
    "console.breach.with_contact": (
        "Sertakan email dan nomor telepon (setiap pembacaan dicatat)",
        "Include email and phone (each read is recorded)",
    ),
    "console.breach.submit": ("Tampilkan", "Show"),
    "console.breach.csv": ("Unduh CSV", "Download CSV"),
    "console.breach.affected": ("{count} warga terdampak", "{count} citizens affected"),
    "console.breach.citizen": ("ID internal:", "Internal id:"),
    "console.breach.accesses": (
        "{count} akses, pertama {first}, terakhir {last}.",
        "{count} accesses, first {first}, last {last}.",
    ),
    "console.breach.none": ("Tidak ada warga terdampak.", "No citizen affected."),
    "console.breach.not_yours": (
        "Aplikasi itu tidak ada di antara aplikasi Anda.",
        "That app is not among your apps.",
    ),
    "console.breach.bad_window": (
        "Isi kedua tanggal (TTTT-BB-HH), yang kedua tidak sebelum yang pertama.",
        "Give both dates (YYYY-MM-DD), the second not before the first.",
    ),
    "console.purposes.title": ("Tujuan {app}", "Purposes of {app}"),
    "console.purposes.link": ("Tujuan aplikasi ini", "This app's purposes"),
    "console.purposes.none": ("Belum ada tujuan.", "No purpose yet."),
    "console.purposes.add": ("Tambahkan tujuan", "Add a purpose"),
    "console.purposes.added": ("Tujuan ditambahkan.", "The purpose was added."),
    "console.purposes.code_hint": (
        "Huruf kecil, angka, titik atau tanda hubung, misalnya bansos-eligibility.",
        "Lower-case letters, digits, dots or hyphens, such as bansos-eligibility.",
    ),
    "console.purposes.description_id": (
        "Tujuan dalam Bahasa Indonesia, seperti dibaca warga",
        "The purpose in Bahasa Indonesia, as citizens read it",
    ),
    "console.purposes.description_en": ("Tujuan dalam bahasa Inggris", "The purpose in English"),
    "console.purposes.items_hint": (
        "Dipisah koma, misalnya name, birthdate, income:specific (data spesifik, Pasal 4 "
        "ayat (2)).",
        "Comma-separated, such as name, birthdate, income:specific (specific data, Art. 4(2)).",
    ),
    "console.purposes.retention_label": ("Masa simpan (hari)", "Retention (days)"),
    "console.purposes.retention": ("Disimpan {days} hari.", "Kept {days} days."),
    "console.purposes.refused": (
        "Tujuan tidak ditambahkan. Periksa isiannya.",
        "The purpose was not added. Check the form.",
    ),
    "console.app.title": ("Aplikasi {app}", "The app {app}"),
    "console.app.link": ("Atur aplikasi", "Manage the app"),
    "console.app.state": ("Keadaan", "State"),
    "console.app.active": ("Aktif", "In service"),
    "console.app.disabled_since": ("Dinonaktifkan sejak {when}", "Disabled since {when}"),
    "console.app.sector": (
        "Sektor (menentukan sub pairwise warga)",
        "Sector (sets the citizens' pairwise sub)",
    ),
    "console.app.sector_kept": (
        "Sektor aplikasi tetap, sehingga warga dikenali dengan sub yang sama.",
        "The app's sector stays, so citizens keep the same sub.",
    ),
    "console.app.save_uris": ("Simpan URI pengalihan", "Save the redirect URIs"),
    "console.app.uris_saved": ("URI pengalihan disimpan.", "The redirect URIs were saved."),
    "console.app.uris_refused": (
        "URI pengalihan tidak diubah. Aturan yang dilanggar:",
        "The redirect URIs were not changed. The rule broken:",
    ),
    "console.app.disable": ("Nonaktifkan aplikasi", "Disable the app"),
    "console.app.disable_intro": (
        "Aplikasi tidak dapat lagi memasukkan warga, meminta token, atau membaca data; token "
        "penyegarannya dicabut saat itu juga. Pendaftaran, tujuan dan persetujuannya disimpan. "
        "Masukkan kode baru dari aplikasi autentikator Anda.",
        "The app can no longer sign citizens in, get tokens or read data; its refresh tokens "
        "are revoked at once. Its registration, purposes and consents are kept. Type a fresh "
        "code from your authenticator app.",
    ),
    "console.app.enable": ("Aktifkan kembali", "Put back in service"),
    "console.app.enable_intro": (
        "Aplikasi dapat kembali memasukkan warga. Token yang sudah dicabut tetap dicabut. "
        "Masukkan kode baru dari aplikasi autentikator Anda.",
        "The app can sign citizens in again. Tokens already revoked stay revoked. Type a "
        "fresh code from your authenticator app.",
    ),
    "console.app.disabled_done": (
        "Aplikasi dinonaktifkan; token penyegarannya dicabut.",
        "The app is disabled; its refresh tokens are revoked.",
    ),
    "console.app.enabled_done": ("Aplikasi aktif kembali.", "The app is back in service."),
    "console.notice.link": ("Pemberitahuan privasi", "Privacy notice"),
    "console.notice.title": ("Pemberitahuan privasi {app}", "The privacy notice of {app}"),
    "console.notice.intro": (
        "Tulis setiap hal yang wajib diberitahukan sebelum warga memberi persetujuan, dalam "
        "Bahasa Indonesia (wajib) dan bahasa Inggris. Lihat pratinjau layar persetujuan "
        "sebelum menerbitkan. UU PDP Pasal 21 ayat (1).",
        "Write each thing citizens must be told before they consent, in Bahasa Indonesia "
        "(required) and English. See the consent screen's preview before publishing. "
        "UU PDP Art. 21(1).",
    ),
    "console.notice.article": ("Pasal 21 ayat (1) huruf {letter}", "Art. 21(1)({letter})"),
    "console.notice.dpo_article": ("Pasal 53", "Art. 53"),
    "console.notice.lang_id": ("Bahasa Indonesia", "Bahasa Indonesia (Indonesian)"),
    "console.notice.lang_en": ("Bahasa Inggris", "English"),
    "console.notice.field.controller.name": ("Nama pengendali data", "The controller's name"),
    "console.notice.field.controller.contact": (
        "Kontak pengendali (tidak wajib)",
        "The controller's contact (optional)",
    ),
    "console.notice.field.dpo.name": ("Nama atau kantor", "Name or office"),
    "console.notice.field.dpo.email": ("Email", "Email address"),
    "console.notice.field.dpo.phone": ("Telepon", "Phone"),
    "console.notice.field.dpo.url": ("Alamat web", "Web address"),
    "console.notice.preview": ("Lihat pratinjau", "Preview"),
    "console.notice.preview_title": ("Pratinjau pemberitahuan", "Notice preview"),
    "console.notice.preview_intro": (
        "Pratinjau: beginilah warga akan melihat layar persetujuan {app} setelah Anda "
        "menerbitkan. Belum ada yang berubah.",
        "Preview: this is how citizens will see the consent screen of {app} once you "
        "publish. Nothing has changed yet.",
    ),
    "console.notice.screen": ("Layar persetujuan", "The consent screen"),
    "console.notice.no_consent_purpose": (
        "Aplikasi ini belum punya tujuan berdasarkan persetujuan, jadi warga tidak akan "
        "ditanya. Tambahkan tujuan terlebih dahulu.",
        "This app has no purpose on consent yet, so citizens will not be asked. Add a "
        "purpose first.",
    ),
    "console.notice.draft": (
        "Pemberitahuan lengkap, versi {version}",
        "The whole notice, version {version}",
    ),
    "console.notice.changes_heading": (
        "Yang berubah dari versi yang berlaku",
        "What changes from the version in force",
    ),
    "console.notice.publish_intro": (
        "Setelah diterbitkan, persetujuan yang ada tidak lagi berlaku untuk versi baru: warga "
        "akan ditanya lagi saat memakai aplikasi (UU PDP Pasal 21 ayat (2)).",
        "Once published, existing consents no longer cover the new version: citizens will be "
        "asked again when they use the app (UU PDP Art. 21(2)).",
    ),
    "console.notice.publish": ("Terbitkan", "Publish"),
    "console.notice.edit": ("Ubah lagi", "Edit again"),
    "console.notice.published": (
        "Versi baru diterbitkan; warga akan ditanya lagi.",
        "The new version is published; citizens will be asked again.",
    ),
    "console.notice.same": (
        "Teks ini sama dengan versi yang berlaku; tidak ada versi baru.",
        "This text is the version in force; no new version.",
    ),
    "console.notice.refused": (
        "Pemberitahuan belum dapat dipakai. Yang perlu diperbaiki:",
        "The notice cannot be used yet. What to fix:",
    ),
    "console.notice.versions": ("Versi yang diterbitkan", "Published versions"),
    "console.notice.version": ("Versi {version}", "Version {version}"),
    "console.notice.in_force": ("berlaku", "in force"),
    "console.notice.published_at": ("Diterbitkan {when}", "Published {when}"),
    "console.notice.read": ("Baca versi {version}", "Read version {version}"),
    "console.notice.changes_link": (
        "Yang berubah di versi {version}",
        "What version {version} changed",
    ),
    "console.notice.changes_title": (
        "Perubahan pemberitahuan {app}, versi {version}",
        "Changes to the notice of {app}, version {version}",
    ),
    "console.notice.changes_intro": (
        "Dari versi {before} ke versi {version}: kata yang dihapus dicoret, kata yang "
        "ditambahkan ditandai.",
        "From version {before} to version {version}: removed words are struck through, "
        "added words are marked.",
    ),
    "console.notice.removed": ("dihapus:", "removed:"),
    "console.notice.added": ("ditambahkan:", "added:"),
    "console.notice.no_changes": ("Tidak ada perubahan.", "No change."),
    "console.notice.first": ("Ini versi pertama.", "This is the first version."),
    "console.notice.none": ("Belum ada versi yang diterbitkan.", "No version published yet."),
    "console.notice.back": ("Kembali ke pemberitahuan", "Back to the notice"),
    "console.entry.vkey": ("Kunci verifikasi log:", "The log's verifier key:"),
    "console.entry.browser": (
        "Diperiksa ulang di peramban ini",
        "Checked again in this browser",
    ),
    "console.entry.browser_off": (
        "Peramban ini tidak menjalankan pemeriksaan sendiri (JavaScript mati); hasil server "
        "di atas tetap berlaku.",
        "This browser runs no check of its own (JavaScript is off); the server's result above "
        "stands.",
    ),
    "console.entry.browser_checking": ("Memeriksa…", "Checking…"),
    "console.entry.browser_ok": (
        "Terverifikasi oleh peramban ini: hash entri, jalur bukti ke akar pohon berukuran "
        "{size}, dan tanda tangan checkpoint dengan kunci log (RFC 9162, C2SP).",
        "Verified by this browser: the entry's hash, the proof's path to the root of the tree "
        "of {size}, and the checkpoint's signature by the log's key (RFC 9162, C2SP).",
    ),
    "console.entry.browser_bad": (
        "GAGAL di peramban ini: bukti tidak mengarah ke checkpoint bertanda tangan. Jangan "
        "percayai entri ini; laporkan.",
        "FAILED in this browser: the proof does not lead to the signed checkpoint. Do not "
        "trust this entry; report it.",
    ),
    "console.entry.browser_unsupported": (
        "Peramban ini tidak dapat memeriksa tanda tangan Ed25519; hasil server di atas tetap "
        "berlaku.",
        "This browser cannot check Ed25519 signatures; the server's result above stands.",
    ),
    "console.entry.browser_again": ("Periksa lagi", "Check again"),
    "console.charts.title": ("Grafik log audit", "Audit log charts"),
    "console.charts.link_intro": (
        "Akses aplikasi per hari, penolakan oleh gerbang persetujuan, pencabutan persetujuan, "
        "dan permintaan subjek data, masing-masing dengan tabelnya.",
        "Apps' accesses per day, refusals by the consent gate, withdrawals of consent, and "
        "data-subject requests, each with its table.",
    ),
    "console.charts.intro": (
        "Dihitung dari kolom log yang diperiksa jati audit verify terhadap setiap entri, dan "
        "dari register permintaan; tanpa data pribadi. Setiap grafik punya tabel dengan angka "
        "yang sama.",
        "Counted from the log's columns that jati audit verify checks against each entry, and "
        "from the request register; no personal data. Each chart has a table of the same "
        "numbers.",
    ),
    "console.charts.window": ("Rentang waktu", "Time window"),
    "console.charts.days": ("{days} hari terakhir", "The last {days} days"),
    "console.charts.show": ("Tampilkan", "Show"),
    "console.charts.accesses": (
        "Akses aplikasi ke data warga, per hari",
        "Apps' accesses to citizens' data, per day",
    ),
    "console.charts.refusals": (
        "Penolakan oleh gerbang persetujuan, per hari (UU PDP Pasal 20, 22, 41)",
        "Refusals by the consent gate, per day (UU PDP Art. 20, 22, 41)",
    ),
    "console.charts.withdrawals": (
        "Pencabutan persetujuan, per hari (Pasal 9, 40)",
        "Withdrawals of consent, per day (Art. 9, 40)",
    ),
    "console.charts.requests": (
        "Permintaan subjek data menurut jenis dan keadaan (Pasal 14)",
        "Data-subject requests by kind and state (Art. 14)",
    ),
    "console.charts.summary": (
        "Jumlah {total} dalam {days} hari.",
        "{total} in all over {days} days.",
    ),
    "console.charts.requests_summary": (
        "Jumlah {total} permintaan; {overdue} terlambat.",
        "{total} requests in all; {overdue} overdue.",
    ),
    "console.charts.state.overdue": ("Terlambat", "Overdue"),
    "console.charts.state.received": ("Diterima, dalam batas waktu", "Received, within time"),
    "console.charts.state.completed": ("Selesai", "Completed"),
    "console.charts.state.refused": ("Ditolak", "Refused"),
    "console.charts.kind.access": ("Akses", "Access"),
    "console.charts.kind.correction": ("Koreksi", "Correction"),
    "console.charts.kind.restriction": ("Pembatasan", "Restriction"),
    "console.charts.kind.erasure": ("Penghapusan", "Erasure"),
    "console.charts.other": ("Lainnya", "Others"),
    "console.charts.table": ("Tabel: {title}", "Table: {title}"),
    "console.charts.category": ("Hari atau jenis", "Day or kind"),
    "console.charts.total": ("Jumlah", "Total"),
    "console.requests.title": ("Permintaan subjek data", "Data-subject requests"),
    "console.requests.intro": (
        "Permintaan warga kepada pengendali aplikasi Anda. Jawab dalam 3×24 jam sejak "
        "diterima; yang terlambat tampil paling atas (UU PDP Pasal 30, 32).",
        "Citizens' requests to your apps' controller. Answer within 3×24 hours of receipt; "
        "overdue ones come first (UU PDP Art. 30, 32).",
    ),
    "console.requests.intro_platform": (
        "Permintaan warga kepada Jati sendiri. Jati melaksanakannya saat itu juga; Anda dapat "
        "mencabut pembatasan pemrosesan yang sudah tidak diperlukan (UU PDP Pasal 41).",
        "Citizens' requests to Jati itself. Jati carries them out at once; you may lift a "
        "restriction of processing that is no longer needed (UU PDP Art. 41).",
    ),
    "console.requests.counts": (
        "{open} terbuka, {overdue} terlambat.",
        "{open} open, {overdue} overdue.",
    ),
    "console.requests.counts_home": (
        "Permintaan warga kepada pengendali Anda, dengan batas waktu 3×24 jam.",
        "Citizens' requests to your controller, with their 3×24-hour due times.",
    ),
    "console.requests.overdue": ("Terlambat {hours} jam", "Overdue by {hours} hours"),
    "console.requests.left": ("Sisa {hours} jam", "{hours} hours left"),
    "console.requests.received": ("Diterima {when}", "Received {when}"),
    "console.requests.due": ("batas {when}", "due {when}"),
    "console.requests.sub": ("Warga (sub di aplikasi):", "Citizen (sub at the app):"),
    "console.requests.complete": ("Selesaikan", "Complete"),
    "console.requests.complete_label": (
        "Selesaikan permintaan {id}",
        "Complete request {id}",
    ),
    "console.requests.complete_hint.access": (
        "Warga dapat mengunduh ekspor Jati atas apa yang diterima aplikasi Anda setelah Anda "
        "menyelesaikannya.",
        "Once you complete it, the citizen can download Jati's export of what your app received.",
    ),
    "console.requests.complete_hint.correction": (
        "Data di Jati sudah dikoreksi. Selesaikan setelah salinan di aplikasi Anda juga dikoreksi.",
        "Jati's copy is corrected already. Complete it once your app's copy is corrected too.",
    ),
    "console.requests.lift": ("Cabut pembatasan", "Lift the restriction"),
    "console.requests.lift_intro": (
        "Pemrosesan data warga ini akan berjalan lagi di semua aplikasi. Masukkan kode baru "
        "dari aplikasi autentikator Anda.",
        "Processing of this citizen's data resumes in every app. Type a fresh code from your "
        "authenticator app.",
    ),
    "console.requests.was_lifted": ("pembatasan dicabut", "restriction lifted"),
    "console.requests.completed": (
        "Permintaan diselesaikan; warga melihatnya di catatan mereka.",
        "The request is completed; the citizen sees it in their log.",
    ),
    "console.requests.lifted": (
        "Pembatasan dicabut; warga melihatnya di catatan mereka.",
        "The restriction is lifted; the citizen sees it in their log.",
    ),
    "console.requests.closed": (
        "Permintaan itu sudah ditutup.",
        "That request is closed already.",
    ),
    "console.requests.unknown": (
        "Tidak ada permintaan itu di antara permintaan Anda.",
        "There is no such request among yours.",
    ),
    "console.requests.none": ("Belum ada permintaan.", "No request yet."),
    "console.apps.unknown": ("Aplikasi itu tidak ada.", "That app does not exist."),
    "console.keys.title": ("Kunci penandatangan token", "Token signing keys"),
    "console.keys.intro": (
        "Kunci yang menandatangani token dan kredensial: berikutnya, aktif, dan pensiun (masih "
        "diterbitkan selama token lama berlaku). Bagian privatnya tidak pernah ditampilkan.",
        "The keys that sign tokens and credentials: next, active, and retired (still published "
        "while older tokens live). Their private parts are never shown.",
    ),
    "console.keys.state.next": ("berikutnya", "next"),
    "console.keys.state.active": ("aktif", "active"),
    "console.keys.state.retired": ("pensiun", "retired"),
    "console.keys.created": ("Dibuat {at}.", "Created {at}."),
    "console.keys.published": ("Diterbitkan di JWKS.", "Published in the JWKS."),
    "console.keys.unpublished": ("Tidak lagi diterbitkan.", "No longer published."),
    "console.keys.rotate": ("Rotasi kunci", "Rotate the keys"),
    "console.keys.rotate_intro": (
        "Kunci berikutnya menjadi aktif; kunci aktif pensiun tetapi tetap diterbitkan selama "
        "masa berlaku token ditambah satu menit, sehingga aplikasi tidak terganggu.",
        "The next keys become active; the active ones retire but stay published for a "
        "token's lifetime and a minute, so apps are not disturbed.",
    ),
    "console.keys.rotated": ("Kunci telah dirotasi.", "The keys were rotated."),
    "console.reauth.hint": (
        "Tindakan ini tidak bisa dibatalkan: ketik kode baru dari aplikasi autentikator Anda.",
        "This cannot be undone: type a new code from your authenticator app.",
    ),
    "console.reauth.refused": (
        "Kode salah atau sudah dipakai. Tidak ada yang diubah.",
        "The code is wrong or was used already. Nothing changed.",
    ),
    "console.search.title": ("Cari di log audit", "Search the audit log"),
    "console.search.intro": (
        "Siapa mengakses data siapa, kapan dan untuk apa. Setiap pencarian Anda ikut dicatat.",
        "Who accessed whose data, when and why. Each of your searches is recorded too.",
    ),
    "console.search.form": ("Saring", "Filters"),
    "console.search.subject_id": ("ID internal warga", "Citizen's internal id"),
    "console.search.actor": ("Pelaku (ID aplikasi atau petugas)", "Actor (app or official id)"),
    "console.search.purpose": ("Kode tujuan", "Purpose code"),
    "console.search.any_basis": ("Semua dasar hukum", "Any legal basis"),
    "console.search.bad_basis": (
        "Pilih dasar hukum dari daftar.",
        "Choose a legal basis from the list.",
    ),
    "console.search.since": ("Dari tanggal", "From"),
    "console.search.until": ("Sampai tanggal", "Until"),
    "console.search.submit": ("Cari", "Search"),
    "console.search.results": ("Hasil, urut log", "Results, in log order"),
    "console.search.recorded": (
        "Pencarian ini telah dicatat di log atas nama Anda.",
        "This search has been recorded in the log under your name.",
    ),
    "console.search.none": ("Tidak ada entri yang cocok.", "No entry matches."),
    "console.search.next": ("Halaman berikutnya", "Next page"),
    "console.search.bad_nik": (
        "Itu bukan NIK yang sah (16 angka). Tidak ada yang dicari.",
        "That is not a valid NIK (16 digits). Nothing was searched.",
    ),
    "console.search.bad_date": (
        "Tanggal ditulis TTTT-BB-HH. Tidak ada yang dicari.",
        "A date is written YYYY-MM-DD. Nothing was searched.",
    ),
    "console.search.both": (
        "Isi NIK atau ID internal, tidak keduanya. Tidak ada yang dicari.",
        "Give a NIK or an internal id, not both. Nothing was searched.",
    ),
    "console.entry.title": ("Entri log nomor {index}", "Log entry number {index}"),
    "console.entry.unknown": ("Entri itu belum ada di log.", "That entry is not in the log."),
    "console.entry.time": ("Waktu", "Time"),
    "console.entry.action": ("Tindakan", "Action"),
    "console.entry.subject": ("Pseudonim warga", "Citizen's pseudonym"),
    "console.entry.proof": ("Bukti inklusi (RFC 9162)", "Inclusion proof (RFC 9162)"),
    "console.entry.proof_ok": (
        "Terverifikasi: entri ini ada di pohon checkpoint bertanda tangan berukuran {size}.",
        "Verified: this entry is in the tree of the signed checkpoint of size {size}.",
    ),
    "console.entry.proof_failed": (
        "Bukti inklusi TIDAK cocok dengan checkpoint bertanda tangan. Laporkan dan jalankan "
        "jati audit verify.",
        "The inclusion proof does NOT match the signed checkpoint. Report it and run "
        "jati audit verify.",
    ),
    "console.entry.not_covered": (
        "Entri ini belum dicakup checkpoint; buka lagi sebentar lagi.",
        "No checkpoint covers this entry yet; open it again shortly.",
    ),
    "console.entry.proof_detail": ("Rincian bukti", "The proof in detail"),
    "console.entry.leaf_hash": ("Hash daun:", "Leaf hash:"),
    "console.entry.root": ("Akar pohon:", "Tree root:"),
    "console.entry.bytes": ("Isi entri (bentuk kanonis)", "The entry (canonical form)"),
    # -- connected apps (identity/http/pages/connected_apps.py)
    "apps.title": ("Aplikasi yang terhubung", "Connected apps"),
    "apps.link": (
        "Aplikasi yang terhubung: apa yang boleh diterima setiap aplikasi",
        "Connected apps: what each app may receive",
    ),
    "apps.intro": (
        "Aplikasi yang Anda beri persetujuan, apa yang boleh diterimanya dan kapan terakhir "
        "memakai data Anda. Menarik persetujuan berlaku seketika di Jati.",
        "The apps you gave consent to, what each may receive and when it last used your "
        "data. Withdrawing consent takes effect at once in Jati.",
    ),
    "apps.since": ("Terhubung sejak {at}.", "Connected since {at}."),
    "apps.last_use": ("Terakhir memakai data Anda: {at}.", "Last used your data: {at}."),
    "apps.never_used": ("Belum pernah memakai data Anda.", "Has not used your data yet."),
    "apps.may_receive": (
        "Boleh menerima, dengan persetujuan Anda",
        "May receive, with your consent",
    ),
    "apps.without_consent": (
        "Boleh menerima tanpa persetujuan, atas dasar hukum lain",
        "May receive without consent, on another legal basis",
    ),
    "apps.see_events": ("Lihat catatan {app}", "See what {app} did"),
    "apps.none": (
        "Anda belum memberi persetujuan kepada aplikasi mana pun.",
        "You have not given consent to any app.",
    ),
    "apps.former": ("Tidak lagi terhubung", "No longer connected"),
    "apps.former_intro": (
        "Persetujuan Anda untuk aplikasi ini sudah ditarik, ditolak atau berakhir.",
        "Your consents to these apps were withdrawn, refused or have ended.",
    ),
    "zone.WIB": (
        "WIB: Jawa, Sumatra, Kalimantan Barat dan Tengah",
        "WIB: Java, Sumatra, West and Central Kalimantan",
    ),
    "zone.WITA": (
        "WITA: Bali, Nusa Tenggara, Sulawesi, Kalimantan Selatan, Timur dan Utara",
        "WITA: Bali, Nusa Tenggara, Sulawesi, South, East and North Kalimantan",
    ),
    "zone.WIT": ("WIT: Maluku dan Papua", "WIT: Maluku and Papua"),
    # -- UU PDP Art. 20(2) in plain words, the article after
    "basis.label": ("Dasar hukum", "Legal basis"),
    "basis.article": ("UU PDP Pasal 20 ayat (2) huruf {letter}", "UU PDP Art. 20(2)({letter})"),
    "basis.plain.a": ("karena Anda memberi persetujuan", "because you gave your consent"),
    "basis.plain.b": (
        "untuk menjalankan perjanjian dengan Anda",
        "to carry out a contract with you",
    ),
    "basis.plain.c": ("karena diwajibkan oleh peraturan", "because the law requires it"),
    "basis.plain.d": ("untuk melindungi kepentingan vital Anda", "to protect your vital interests"),
    "basis.plain.e": (
        "untuk tugas pelayanan publik oleh pemerintah",
        "for a public service task of the government",
    ),
    "basis.plain.f": ("untuk kepentingan sah lainnya", "for another legitimate interest"),
    # -- Jati's own purposes (the apps' purposes have their own words)
    "purpose.authentication": ("masuk ke Jati dan aplikasi", "signing in to Jati and apps"),
    "purpose.citizen-registration": (
        "pendaftaran penduduk di Jati",
        "registering residents in Jati",
    ),
    "purpose.population-import-check": (
        "pemeriksaan data saat impor penduduk",
        "checking data during a population import",
    ),
    "purpose.consent-management": (
        "memeriksa usia Anda sebelum meminta persetujuan",
        "checking your age before asking for consent",
    ),
    "purpose.account-security": ("keamanan akun Anda", "your account's security"),
    "purpose.data-subject-access": ("salinan data Anda", "a copy of your data"),
    "purpose.data-subject-correction": ("perbaikan data Anda", "correcting your data"),
    "purpose.data-subject-erasure": ("penghapusan data Anda", "erasing your data"),
    "purpose.data-subject-restriction": (
        "pembatasan pemrosesan data Anda",
        "restricting the processing of your data",
    ),
    "purpose.erasure-request": ("penghapusan data Anda", "erasing your data"),
    "purpose.audit-query": ("pemeriksaan oleh auditor", "an auditor's inquiry"),
    "purpose.breach-notification": (
        "pemberitahuan kegagalan pelindungan data",
        "notice of a personal data breach",
    ),
}

#: UU PDP Art. 20(2), in Indonesian; the English wording is the receipts' own.
LEGAL_BASIS_ID: Mapping[str, str] = {
    "a": "UU PDP Pasal 20 ayat (2) huruf a: persetujuan yang sah secara eksplisit",
    "b": "UU PDP Pasal 20 ayat (2) huruf b: pemenuhan kewajiban perjanjian",
    "c": "UU PDP Pasal 20 ayat (2) huruf c: pemenuhan kewajiban hukum",
    "d": "UU PDP Pasal 20 ayat (2) huruf d: pelindungan kepentingan vital",
    "e": "UU PDP Pasal 20 ayat (2) huruf e: tugas untuk kepentingan umum atau pelayanan publik",
    "f": "UU PDP Pasal 20 ayat (2) huruf f: kepentingan sah lainnya",
}

#: Names of data items (purposes' items and claims' fields); unknown items show as coded.
DATA_ITEMS: Mapping[str, tuple[str, str]] = {
    "nik": ("NIK", "NIK"),
    "name": ("Nama lengkap", "Full name"),
    "birthdate": ("Tanggal lahir", "Date of birth"),
    "email": ("Alamat email", "Email address"),
    "phone": ("Nomor telepon", "Phone number"),
    "address": ("Alamat", "Address"),
    "income": ("Penghasilan", "Income"),
    "token:authorization-code": ("kode otorisasi", "authorization code"),
    "token:access": ("token akses", "access token"),
    "token:id": ("token ID", "ID token"),
    "credential:sd-jwt-vc": ("kredensial identitas digital", "digital identity credential"),
    "token:refresh": ("token pembaruan", "refresh token"),
    # account security (issue 18): what changed, never a value
    "password": ("kata sandi", "password"),
    "passkey": ("passkey", "passkey"),
    "totp": ("aplikasi autentikator", "authenticator app"),
    "recovery_codes": ("kode pemulihan", "recovery codes"),
    "activation_code": ("kode aktivasi", "activation code"),
    "sessions": ("sesi masuk", "sign-in sessions"),
    "tokens": ("token aplikasi", "app tokens"),
}


def language_of(value: str | None) -> str | None:
    """``id``/``en`` for a language tag whose primary subtag is one of them (``en-US``)."""
    if not value or len(value) > 35:
        return None
    primary = value.strip().split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def choose_language(
    *,
    query: str | None = None,
    form: str | None = None,
    cookie: str | None = None,
    ui_locales: Iterable[str] = (),
) -> str:
    """The page language (the module docstring's order)."""
    for candidate in (query, form, cookie):
        chosen = language_of(candidate)
        if chosen is not None:
            return chosen
    for tag in ui_locales:
        chosen = language_of(tag)
        if chosen is not None:
            return chosen
    return DEFAULT_LANGUAGE


#: Credential claims that are not data items themselves (Bahasa Indonesia, English).
CREDENTIAL_CLAIMS: Mapping[str, tuple[str, str]] = {
    "given_name": ("Nama depan", "Given name"),
    "family_name": ("Nama keluarga", "Family name"),
    "formatted": ("Alamat", "Address"),
    "street_address": ("Jalan", "Street"),
    "locality": ("Kota/kabupaten", "City"),
    "country": ("Negara", "Country"),
    "nationalities": ("Kewarganegaraan", "Nationality"),
}


@dataclass(frozen=True, slots=True)
class Translator:
    """The words of one language; templates call ``t("key", name=value)``."""

    lang: str

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise ValueError(f"unsupported language {self.lang!r}")

    @property
    def other(self) -> str:
        """The language the switch link offers."""
        return "en" if self.lang == "id" else "id"

    def __call__(self, key: str, **values: object) -> str:
        text = MESSAGES[key][LANGUAGES.index(self.lang)]
        return text.format(**values) if values else text

    def text(self, localized: LocalizedText | Mapping[str, str] | None) -> str:
        """A text given in both languages by its owner (Indonesian when English is absent)."""
        if localized is None:
            return ""
        if isinstance(localized, LocalizedText):
            return (localized.en if self.lang == "en" and localized.en else localized.id) or ""
        return str(localized.get(self.lang) or localized.get("id") or "")

    def legal_basis(self, basis: str) -> str:
        """The words of a UU PDP Art. 20(2) basis (``a``-``f``)."""
        if self.lang == "en":
            return LEGAL_BASIS_TEXT.get(basis, basis)
        return LEGAL_BASIS_ID.get(basis, basis)

    def item(self, name: str) -> str:
        """The name of a data item."""
        names = DATA_ITEMS.get(name)
        return names[LANGUAGES.index(self.lang)] if names else name

    def claim(self, name: str) -> str:
        """The name of a credential claim (``address.locality``, ``age_equal_or_over.18``)."""
        head, _, tail = name.partition(".")
        if head == "age_equal_or_over" and tail:
            return self("credentials.age_over", age=tail)
        names = CREDENTIAL_CLAIMS.get(tail or head) or DATA_ITEMS.get(head)
        return names[LANGUAGES.index(self.lang)] if names else name

    def items(self, names: Iterable[str]) -> str:
        """Names of data items, comma-separated."""
        return ", ".join(self.item(name) for name in names)

    def has(self, key: str) -> bool:
        return key in MESSAGES
