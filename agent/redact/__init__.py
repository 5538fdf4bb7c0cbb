"""Secret redaction. Everything that leaves the process (prompts, tickets, vectors, logs, replies) passes it.

Secrets are replaced in place by typed placeholders (`[REDACTED:github-token]`), so the text around them still
reads well for people and for the LLM. Vendor tokens are recognised by their prefixes, also when written with
look-alike letters, with invisible characters inside or wrapped onto the next line. Anything else needs its
context: the value of a secret-named key (`password=`, `"client_secret": "..."`, `FOO_TOKEN=...`), a password
flag (`mysql -pX`, `sshpass -p X`), prose ("the password is X", "password X", "set the secret to X"), a
password after a user and a login word ("creds admin:X", "login with admin / X"), a long key right after a
secret word or `key=`, a bare AWS secret key near AWS words, a Luhn-valid card number, a password hash, a
cookie. Where the context is weak the value must look secret too (digits or symbols; not a word, name, date,
version or path). So ordinary words, commit SHAs, UUIDs, trace ids, ARNs, IPs and pod names are left alone
(the redaction tests list such look-alikes). Phone numbers are kept unless asked for (`Redactor`), e-mail
addresses unless the installation's policy says otherwise (`use_policy`, from DEBRIEF_REDACT_EMAILS) or the
caller asks. Redacting twice changes nothing.

The package, one job a module: `rule` (a secret shape and how it finds matches), `rules` (the rule table),
`kinds` (what a match is, or that it is no secret), `view` (the reader's view: hidden secrets), `redactor`
(`Redactor`, `redact`, `redact_tree`), `policy` (the installation's choice for e-mail addresses) and `logs`
(the logging filter).
"""

from agent.redact.logs import RedactingFilter, install_log_redaction
from agent.redact.policy import redacts_emails, use_policy
from agent.redact.redactor import Redactor, redact, redact_tree

__all__ = [
    "RedactingFilter",
    "Redactor",
    "install_log_redaction",
    "redact",
    "redact_tree",
    "redacts_emails",
    "use_policy",
]
