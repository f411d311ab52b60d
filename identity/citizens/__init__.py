"""Citizens: registration, NIK validation, passwords (argon2id), encryption of personal data at
rest, and identity's side of data-subject requests (UU PDP Art. 5-15, 35, 39). A core: no
framework."""
