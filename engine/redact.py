"""Last line of defence for secrets: find every secret value the scan saw and scrub it from
anything emitted."""

from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import quote, unquote, urlsplit

from .model import Vault

REDACTED = "[redacted]"
# Values shorter than this are not scrubbed: "1" or "on" would mangle reports
# without protecting anything.
MIN_SECRET_LEN = 4
# A gateway may echo a credential lower- or upper-cased. Matching regardless of case
# is only safe for values long enough not to be a common word: a 5-letter password
# "proxy" matched caselessly would also eat "Proxy" in every message.
MIN_CASELESS_LEN = 8
# An echo may drop a well-known prefix ("Bearer ", "sk-ant-api03-"); the key body left
# is only scrubbed on its own when it is this long, so "sk-test" never makes "test" a secret.
MIN_KEY_BODY_LEN = 16
# From this length the secret's bytes fix enough base64 characters (15 or more) to
# recognise it inside a longer encoded blob, e.g. base64("apikey:" + token).
MIN_EMBEDDED_LEN = 12
# An echo cut by an excerpt limit, or with a probe's own mask over its start, shows a
# prefix or a suffix of the secret: from this length on, any prefix or suffix of at
# least MIN_FRAGMENT characters is scrubbed too (regardless of case). 8 characters of a
# 32-character token are ~48 bits of it; shorter runs mangle reports for nothing.
MIN_FRAGMENTED_LEN = 16
MAX_FRAGMENTED_LEN = 4096  # a credential is at most a few KB (a JWT); longer is not a token
MIN_FRAGMENT = 8
MIN_WORDLESS = 12
# A file path or URL in a secret-named variable (AWS_SHARED_CREDENTIALS_FILE) is scrubbed
# whole, but its prefixes ("/home/dev") are in every other path of the report.
_PATH_LIKE = re.compile(r"^(?:[/~.]|[A-Za-z]:[\\/])|://|\\")


_AUTHORITY_END = re.compile(r"[/?#\\]")


@dataclass(frozen=True)
class SecretNames:
    """Which names hold secrets (the ``redact`` part of the knowledge's ``secrets.yaml``): a
    name is an environment variable or the name of a vault entry (``env.<VAR>`` read as
    ``<VAR>``). Each field is one pattern, the alternatives of the catalogue's list."""

    header_lines: re.Pattern[str]  # "Name: value" lines, each value a secret
    whole_value: re.Pattern[str]   # the value is a secret
    proxy_url: re.Pattern[str]     # a proxy URL: its password, or a token as its user name
    url: re.Pattern[str]           # a URL that may lack its scheme: its userinfo
    auth_scheme: re.Pattern[str]   # an authorization scheme an echo may drop (ignoring case)
    key_prefix: re.Pattern[str]    # a key prefix an echo may drop (matched, ignoring case)

    @classmethod
    def from_catalogue(cls, data: Mapping[str, Any]) -> SecretNames:
        def one(patterns: Iterable[str], flags: int = 0) -> re.Pattern[str]:
            # Each pattern's leading flags ("(?i)") scoped to it: "(?i:...)". (?!) matches
            # nothing: an empty list names no secret.
            scoped = [re.sub(r"^\(\?([aiLmsux]+)\)(.*)", r"(?\1:\2)", p, flags=re.S)
                      for p in patterns]
            return re.compile("|".join(f"(?:{p})" for p in scoped) or "(?!)", flags)

        return cls(header_lines=one(data["header_lines"]), whole_value=one(data["whole_value"]),
                   proxy_url=one(data["proxy_url"]), url=one(data["url"]),
                   auth_scheme=one(data["auth_scheme"], re.I),
                   key_prefix=one(data["key_prefix"], re.I))


@functools.lru_cache(maxsize=None)
def secret_names() -> SecretNames:
    """The catalogue of the built-in knowledge (``secrets.yaml``), compiled once."""
    from .knowledge import read_builtin

    return SecretNames.from_catalogue(read_builtin("secrets.yaml")["redact"])


def _userinfos(token: str) -> set[str]:
    """The userinfo ("user:password") of a URL, read every way a reader may split it."""
    # NOTE: WHATWG (undici's `new URL`, so the client) ends the authority at the first '/',
    # '?', '#' (or '\\' for http/https) and takes the userinfo up to the LAST '@' before it:
    # "http://bob:p@ss#CANARY@proxy:3128" is user "bob", password "p", host "ss" and the
    # fragment "CANARY@proxy:3128". The user meant the password "p@ss#CANARY", and a
    # redactor splitting at the authority end leaves "CANARY" in plain sight. So take both:
    # the WHATWG userinfo and everything before the last '@' of the whole URL. For
    # "http://host/a@b" that over-scrubs "host/a"; a leaked token would be worse.
    rest = token.split("://", 1)[1]
    at = rest.rfind("@")
    found = {rest[:at]} if at >= 0 else set()
    end = _AUTHORITY_END.search(rest)
    authority = rest[:end.start()] if end else rest
    if "@" in authority:
        found.add(authority.rpartition("@")[0])
    try:
        netloc = urlsplit(token).netloc
    except ValueError:
        netloc = ""
    if "@" in netloc:
        found.add(netloc.rpartition("@")[0])
    return found


def _password_pieces(password: str) -> set[str]:
    """The parts of a password that a reader splitting at '@', '#', '/', '?' shows on their own."""
    return {piece for piece in re.split(r"[@#/?\\]", password) if len(piece) >= MIN_SECRET_LEN}


def _looks_like_token(user: str) -> bool:
    return (len(user) >= MIN_KEY_BODY_LEN and any(c.isdigit() for c in user)
            and any(c.isalpha() for c in user))


def _url_credentials(value: str, proxy: bool = False,
                     url_valued: bool = False) -> tuple[set[str], set[str]]:
    """Secrets in the URLs of value, and the "user:password" strings a client sends as Basic auth.

    The password is the secret. A user name alone is one only in a proxy URL with no ':'
    at all that looks like a token (some proxies take a token as the user name:
    "http://<token>@proxy:3128"): login names ("ssh://ubuntu@host", "postgres://postgres@db")
    are also in every home path, and scrubbing them mangled whole reports."""
    secrets: set[str] = set()
    basic: set[str] = set()
    for token in re.split(r"[\s,]+", value):
        if "@" not in token:
            continue
        if "://" not in token:
            if not url_valued:
                continue
            # A URL variable without its scheme ("bob:pw@proxy:3128"): the client repairs
            # it to http://, so its userinfo is credentials all the same.
            token = "http://" + token
        for userinfo in _userinfos(token):
            user, colon, password = userinfo.partition(":")
            if password:
                secrets.update({password, unquote(password)})
                secrets |= _password_pieces(password)
            elif proxy and not colon and _looks_like_token(unquote(user)):
                secrets.update({user, unquote(user)})
            basic.update({f"{user}:{password}", f"{unquote(user)}:{unquote(password)}"})
    return secrets, basic


def _header_values(text: str) -> list[str]:
    return [line.split(":", 1)[1].strip()
            for line in text.replace("\\n", "\n").splitlines() if ":" in line]


def _without_prefix(secret: str, names: SecretNames) -> set[str]:
    """The secret as an echo that dropped an authorization scheme or a key prefix would show it."""
    out = set()
    scheme = names.auth_scheme.match(secret)
    if scheme:
        secret = secret[scheme.end():]
        out.add(secret)
    key = names.key_prefix.match(secret)
    if key and len(secret) - key.end() >= MIN_KEY_BODY_LEN:
        out.add(secret[key.end():])
    return out


def _base64_forms(text: str) -> set[str]:
    """text base64-encoded, standard and URL-safe, padded or not; for long text also the
    characters that stay the same wherever it sits inside a longer encoded blob."""
    data = text.encode("utf-8", "surrogatepass")
    forms = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(data).decode()
        forms.update({whole, whole.rstrip("=")})
        if len(data) < MIN_EMBEDDED_LEN:
            continue
        for shift in range(3):
            # With `shift` unknown bytes before it, the first ceil(8*shift/6) characters
            # and any after bit 8*(shift+len) also depend on the neighbours: drop them.
            encoded = encode(bytes(shift) + data).decode()
            forms.add(encoded[-(-8 * shift // 6): 8 * (shift + len(data)) // 6])
    return forms


def _echo_forms(secret: str, names: SecretNames) -> set[str]:
    """The secret and the forms a gateway or proxy may echo it in."""
    plain = {secret} | _without_prefix(secret, names)
    forms = set(plain) | {quote(s, safe=safe, errors="surrogatepass")
                          for s in plain for safe in ("", "/")}
    for s in plain:
        forms |= _base64_forms(s)
    return forms


def secret_values(env: Mapping[str, str], vault: Vault | None = None,
                  names: SecretNames | None = None) -> list[str]:
    """Every value that must never appear in output, and its echo forms, longest first.

    ``names`` says which names hold secrets (the built-in catalogue when not given)."""
    names = names or secret_names()
    found: set[str] = set()
    basic: set[str] = set()
    pairs: list[tuple[str, str]] = list(env.items())
    if vault is not None:
        for name, value in vault.items():
            pairs.append((name.removeprefix("env."), value))
    for name, value in pairs:
        if not value:
            continue
        # NOTE: a header variable (ANTHROPIC_CUSTOM_HEADERS) may have no secret word in its
        # name; it was only caught once a probe had copied it to the vault under another name.
        if names.header_lines.search(name):
            found.update(_header_values(value))
        elif names.whole_value.search(name):
            found.add(value)
        is_proxy = bool(names.proxy_url.search(name))
        in_urls, userinfos = _url_credentials(value, proxy=is_proxy, url_valued=is_proxy
                                              or bool(names.url.search(name)))
        found |= in_urls
        basic |= userinfos
    forms: set[str] = set()
    for secret in found:
        if len(secret) >= MIN_SECRET_LEN:
            forms |= _echo_forms(secret, names)
    for userinfo in basic:
        # Even for a short password ("jdoe:pw"): its Basic blob is long enough to mangle nothing.
        if len(userinfo) >= MIN_SECRET_LEN:
            forms |= _base64_forms(userinfo)
    return sorted((s for s in forms if len(s) >= MIN_SECRET_LEN), key=lambda s: (-len(s), s))


def _strings(obj: Any, out: list[str]) -> list[str]:
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, Mapping):
        for k, v in obj.items():
            _strings(k, out)
            _strings(v, out)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _strings(v, out)
    return out


def _fragments(secret: str, lowered: str) -> set[str]:
    """The prefixes and suffixes (MIN_FRAGMENT+ characters) of a long secret that occur in
    ``lowered``, each as long as it runs there (the secret's own characters: the pattern
    matches regardless of case, and ``str.lower`` may shift offsets in ``text``)."""
    # unquote: the URL-encoded form of a path ("%2Fhome%2Fdev...") is still a path.
    if not MIN_FRAGMENTED_LEN <= len(secret) <= MAX_FRAGMENTED_LEN \
            or _PATH_LIKE.search(unquote(secret)):
        return set()
    low = secret.lower()
    out: set[str] = set()
    head, tail = low[:MIN_FRAGMENT], low[-MIN_FRAGMENT:]
    # Grow each anchored occurrence as far as it matches, rather than list every prefix:
    # listing them costs len(secret)^2 characters (a 70,000-character value took 2.7 GB).
    for start in _occurrences(lowered, head):
        end = start + MIN_FRAGMENT
        while end < len(lowered) and end - start < len(low) and lowered[end] == low[end - start]:
            end += 1
        out.add(secret[:end - start])
    for start in _occurrences(lowered, tail):
        begin, end = start, start + MIN_FRAGMENT
        while (begin > 0 and end - begin < len(low)
               and lowered[begin - 1] == low[-(end - begin) - 1]):
            begin -= 1
        out.add(secret[-(end - begin):])
    # NOTE: a hand-made key starts with a word ("sk-gwdoctor-lab-..." without its prefix
    # is "gwdoctor-..."): a run of letters alone is a fragment only from MIN_WORDLESS
    # characters on, or "gwdoctor" would vanish from every report.
    return {f for f in out if len(f) >= MIN_WORDLESS or not f.isalpha()}


def _occurrences(text: str, needle: str, limit: int = 64) -> list[int]:
    """Where ``needle`` starts in ``text``: at most ``limit`` places (a report repeats an echo
    a few times; thousands means the needle is a run like "xxxxxxxx", not an echo)."""
    found: list[int] = []
    at = text.find(needle)
    while at >= 0 and len(found) < limit:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def scrub(obj: Any, secrets: Iterable[str]) -> Any:
    """``obj`` with every secret form, and every prefix or suffix of a long one, replaced by
    [redacted].

    Only the forms that occur somewhere in ``obj`` go into the regex (usually none: the
    object is returned as it is); a caseless alternative stops ``re`` from skipping ahead,
    and with a few hundred forms that cost ~0.3 s per 100 KB."""
    text = "\n".join(_strings(obj, []))
    lowered = text.lower()
    candidates = set(secrets)
    for secret in list(candidates):
        candidates |= _fragments(secret, lowered)
    # Longest first: at one position the regex takes the first alternative that matches,
    # so "sk-abcd" inside "sk-abcdef" must not win and leave "ef" behind.
    ordered = sorted({s for s in candidates if s and (s in text or (len(s) >= MIN_CASELESS_LEN
                                                                   and s.lower() in lowered))},
                     key=lambda s: (-len(s), s))
    if not ordered:
        return obj
    pattern = re.compile("|".join(
        f"(?i:{re.escape(s)})" if len(s) >= MIN_CASELESS_LEN else re.escape(s) for s in ordered))

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(REDACTED, value)
        if isinstance(value, Mapping):
            return {walk(k): walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        return value

    return walk(obj)
