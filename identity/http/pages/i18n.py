"""The pages' words, in Bahasa Indonesia first and English (UU PDP Art. 22(3): clear, simple
language; Permenkominfo 20/2016: consent forms in Bahasa Indonesia).

The language of a page is chosen, first match wins, from:

1. ``?lang=id`` / ``?lang=en`` on the URL (the switch link on every page), or a ``lang``
   field of a form;
2. the ``lang`` cookie the switch sets;
3. the relying app's ``ui_locales`` (OIDC Core §3.1.2.1), when a sign-in request is pending;
4. Bahasa Indonesia.

``Accept-Language`` is deliberately not read: Indonesian comes first unless the citizen
asks otherwise. Every text a page shows comes from :data:`MESSAGES` (a test checks both
languages have every key); values from the database (an app's purpose descriptions, a
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
    "lang.switch_label": ("Ganti bahasa ke English", "Switch language to Bahasa Indonesia"),
    "nav.skip": ("Lewati ke isi halaman", "Skip to the content"),
    "nav.label": ("Navigasi", "Navigation"),
    "nav.account": ("Akun saya", "My account"),
    "nav.logout": ("Keluar", "Sign out"),
    "nav.login": ("Masuk", "Sign in"),
    "common.back_to_account": ("Kembali ke akun saya", "Back to my account"),
    "common.back_to_app": (
        "Kembali ke aplikasi dan mulai lagi",
        "Go back to the app and start again",
    ),
    "common.required": ("wajib diisi", "required"),
    "common.error_prefix": ("Kesalahan:", "Error:"),
    "common.nothing_changed": ("Tidak ada yang diubah.", "Nothing was changed."),
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
    "login.logged_out": ("Anda telah keluar.", "You are signed out."),
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
    "consent.purpose": ("Tujuan", "Purpose"),
    "consent.basis": ("Dasar hukum", "Legal basis"),
    "consent.items": ("Data yang digunakan", "Data used"),
    "consent.specific": (
        "data pribadi yang bersifat spesifik (UU PDP Pasal 4 ayat (2))",
        "specific personal data (UU PDP Art. 4(2))",
    ),
    "consent.retention_label": ("Retensi", "Retention"),
    "consent.retention": ("Disimpan selama {days} hari.", "Kept for {days} days."),
    "consent.current_status": ("Status saat ini: {status}.", "Current status: {status}."),
    "consent.your_choice": ("Pilihan Anda", "Your choice"),
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
        "Versi {version}, diterbitkan {published}. Hash isi: {hash}",
        "Version {version}, published {published}. Content hash: {hash}",
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
    "account.when": ("Waktu (UTC)", "Time (UTC)"),
    "account.who": ("Siapa", "Who"),
    "account.what": ("Tindakan", "Action"),
    "account.why": ("Tujuan dan dasar hukum", "Purpose and legal basis"),
    "account.data": ("Data", "Data"),
    "account.entry": ("Entri", "Entry"),
    "account.more": ("Catatan berikutnya", "Next entries"),
    "account.first": ("Kembali ke awal", "Back to the start"),
    "account.you": ("Anda", "You"),
    "account.official": ("Petugas ({id})", "Official ({id})"),
    "account.system": ("Sistem Jati", "Jati system"),
    "account.denied": ("ditolak", "refused"),
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
    "request.submit": ("Kirim permintaan", "Send the request"),
    "request.received_at": ("Diterima {at}", "Received {at}"),
    "request.due_by": ("batas waktu {at}", "due by {at}"),
    "request.completed_at": ("selesai {at}", "completed {at}"),
    "request.fields": ("Data yang dikoreksi: {fields}", "Corrected: {fields}"),
    "request.download": ("Unduh data saya (JSON)", "Download my data (JSON)"),
    "request.choose_kind": ("Pilih jenis permintaan.", "Choose a kind of request."),
    "request.confirm_erasure": (
        "Centang pernyataan di atas untuk menghapus data Anda.",
        "Tick the statement above to erase your data.",
    ),
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
    "totp.enrol_intro": (
        "Tambahkan akun ini ke aplikasi autentikator (TOTP) Anda dengan tautan atau kunci "
        "rahasia di bawah, lalu masukkan kode yang ditampilkan aplikasi. Kunci ini hanya "
        "ditampilkan sekali; jangan bagikan kepada siapa pun.",
        "Add this account to your authenticator (TOTP) app with the link or the secret key "
        "below, then enter the code the app shows. The key is shown only once; never share "
        "it.",
    ),
    "totp.uri": ("Tautan otpauth", "otpauth link"),
    "totp.secret": ("Kunci rahasia (base32)", "Secret key (base32)"),
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
    # -- audit actions (audit.entry.Action)
    "action.read": ("membaca data", "read data"),
    "action.disclose": ("mengungkapkan data", "disclosed data"),
    "action.create": ("mencatat data", "recorded data"),
    "action.update": ("memperbarui data", "updated data"),
    "action.erase": ("menghapus data", "erased data"),
    "action.restrict": ("membatasi pemrosesan", "restricted processing"),
    "action.export": ("mengekspor data", "exported data"),
    "action.consent_given": ("persetujuan diberikan", "consent given"),
    "action.consent_refused": ("persetujuan ditolak", "consent refused"),
    "action.consent_withdrawn": ("persetujuan ditarik", "consent withdrawn"),
    "action.consent_expired": ("persetujuan berakhir", "consent expired"),
    "action.token_issued": ("token diterbitkan", "token issued"),
    "action.credential_issued": ("kredensial diterbitkan", "credential issued"),
    "action.credential_revoked": ("kredensial dicabut", "credential revoked"),
    "action.login": ("masuk", "signed in"),
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
