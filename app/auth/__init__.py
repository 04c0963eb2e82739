"""Staff accounts (argon2 passwords, signed bearer tokens) and the auth dependencies of every API."""
