//! What counts as personal data or a secret, by claim name and by value shape.
//!
//! Shared by the claims checks (which report `pii-in-claims` / `secret-in-claims`)
//! and by redaction (which masks the same values), so both always agree on what
//! is sensitive.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// The shape of a sensitive value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Email,
    Phone,
    Ip,
    Card,
    Jwt,
    ApiKey,
    /// A long, high-entropy string: a key, a password hash, a session id.
    HighEntropy,
    /// A PEM private key block.
    PrivateKey,
    /// Credentials inside a larger value: a URL with a password
    /// (`postgres://user:pw@host`) or a token parameter, a webhook URL,
    /// an `Authorization` header value (`Bearer …`, `Basic …`).
    Credential,
    /// An International Bank Account Number.
    Iban,
    /// A US social security number (`123-45-6789`).
    Ssn,
}

impl Shape {
    pub fn label(self) -> &'static str {
        match self {
            Shape::Email => "email",
            Shape::Phone => "phone",
            Shape::Ip => "ip",
            Shape::Card => "card",
            Shape::Jwt => "jwt",
            Shape::ApiKey => "apikey",
            Shape::HighEntropy => "secret",
            Shape::PrivateKey => "privatekey",
            Shape::Credential => "credential",
            Shape::Iban => "iban",
            Shape::Ssn => "ssn",
        }
    }

    /// Shapes that are secrets (error) rather than personal data (warning).
    pub fn is_secret(self) -> bool {
        matches!(
            self,
            Shape::Card | Shape::Jwt | Shape::ApiKey | Shape::PrivateKey | Shape::Credential
        )
    }
}

/// Claim names that hold personal data (OIDC standard claims and common custom ones).
const PII_NAMES: &[&str] = &[
    "email",
    "email_address",
    "mail",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "username",
    "user_name",
    "phone",
    "phone_number",
    "mobile",
    "address",
    "street_address",
    "postal_code",
    "birthdate",
    "birthday",
    "dob",
    "upn",
    "unique_name",
    "ip",
    "ipaddr",
    "ip_address",
    "ssn",
    "social_security_number",
    "national_id",
    "passport",
    "tax_id",
    "picture",
    "profile",
    "website",
    "locale_address",
    "full_name",
    "first_name",
    "last_name",
    "display_name",
    "login_hint",
    "gender",
    "street",
    "cell",
    "fax",
    "dni",
    "cpf",
    "nif",
    "account_number",
    "iban",
    "salary",
    "nationality",
    // The same in other languages teams name claims in.
    "nom",
    "prenom",
    "prénom",
    "vorname",
    "nachname",
    "nombre",
    "apellido",
    "apellidos",
    "cognome",
    "geburtsdatum",
    "fecha_de_nacimiento",
    "adresse",
    "direccion",
    "dirección",
    "indirizzo",
    "telefono",
    "teléfono",
    "telefonnummer",
    "handynummer",
    "correo",
    "strasse",
    "straße",
];

/// Claim names that hold secrets.
const SECRET_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "client_secret",
    "api_key",
    "apikey",
    "api_secret",
    "private_key",
    "privatekey",
    "access_key",
    "secret_key",
    "aws_secret_access_key",
    "card_number",
    "cardnumber",
    "credit_card",
    "cc_number",
    "cvv",
    "cvc",
    "pin",
    "otp",
    "mfa_secret",
    "totp_secret",
    "refresh_token",
    "session_secret",
    "connection_string",
    "db_password",
    "pw",
    "credentials",
    "cookie",
    // The same in other languages teams name claims in.
    "passwort",
    "kennwort",
    "contrasena",
    "contraseña",
    "mot_de_passe",
    "mdp",
    "senha",
    "parola",
    "wachtwoord",
    "haslo",
    "hasło",
    "sifre",
    "şifre",
    "пароль",
    "密码",
    "パスワード",
];

/// The last part of a claim name (after `/`, `:` or `.`: namespaced claims)
/// in lower-case snake case: `clientSecret`, `client-secret` and
/// `ClientSecret` are all `client_secret`, and `IPAddress` is `ip_address`.
fn normalise(name: &str) -> Cow<'_, str> {
    let last = name.rsplit(['/', ':', '.']).next().unwrap_or(name);
    // Most claim names are already lower-case snake case: no copy for them.
    if !last
        .bytes()
        .any(|b| b.is_ascii_uppercase() || b == b'-' || b == b' ')
    {
        return Cow::Borrowed(last);
    }
    let chars: Vec<char> = last.chars().collect();
    let mut out = String::with_capacity(last.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c == '-' || c == ' ' {
            out.push('_');
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            // A word starts at `S` in `clientSecret` and at `A` in `IPAddress`.
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    Cow::Owned(out)
}

/// Last words that say a claim holds personal data: `contact_email`,
/// `mobile_phone`, `home_address`, `zip`.
const PII_LAST_WORDS: &[&str] = &[
    "email",
    "mail",
    "phone",
    "mobile",
    "telephone",
    "tel",
    "address",
    "birthdate",
    "birthday",
    "dob",
    "ssn",
    "passport",
    "cardholder",
    "surname",
    "forename",
    "firstname",
    "lastname",
    "fullname",
    "displayname",
    "username",
    "zip",
    "zipcode",
    "postcode",
];

/// Last two words that say a claim holds personal data: `givenName`,
/// `date_of_birth`, `phoneNumber`.
const PII_LAST_PAIRS: &[(&str, &str)] = &[
    ("first", "name"),
    ("last", "name"),
    ("given", "name"),
    ("family", "name"),
    ("middle", "name"),
    ("full", "name"),
    ("display", "name"),
    ("user", "name"),
    ("real", "name"),
    ("legal", "name"),
    ("maiden", "name"),
    ("screen", "name"),
    ("nick", "name"),
    ("customer", "name"),
    ("contact", "name"),
    ("person", "name"),
    ("holder", "name"),
    ("account", "holder"),
    ("card", "holder"),
    ("phone", "number"),
    ("mobile", "number"),
    ("passport", "number"),
    ("passport", "no"),
    ("ssn", "number"),
    ("id", "number"),
    ("insurance", "number"),
    ("license", "number"),
    ("licence", "number"),
    ("of", "birth"),
    ("birth", "date"),
    ("zip", "code"),
    ("post", "code"),
    ("postal", "code"),
];

/// Last words that say a claim holds a secret: `dbPassword`,
/// `sessionSecret`, `refreshToken`, `card_pin`.
const SECRET_LAST_WORDS: &[&str] = &[
    "pw",
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "pin",
    "otp",
    "cvv",
    "cvc",
];

/// Last two words that say a claim holds a secret: `password_hash`,
/// `apiKey`, `signingKey`.
const SECRET_LAST_PAIRS: &[(&str, &str)] = &[
    ("password", "hash"),
    ("pwd", "hash"),
    ("pw", "hash"),
    ("passwd", "hash"),
    ("api", "key"),
    ("secret", "key"),
    ("private", "key"),
    ("access", "key"),
    ("signing", "key"),
    ("encryption", "key"),
    ("master", "key"),
    ("connection", "string"),
];

/// Last words of a setting that holds a signing secret or a password.
const SETTING_LAST_WORDS: &[&str] = &["password", "passwd", "pwd", "passphrase", "secret"];

/// Last two words of a setting that holds a key: `IssuerSigningKey`,
/// `SecretKey`, `JWT_SIGNING_KEY`, `jwt.secret-key`, `hmacKey`.
const SETTING_LAST_PAIRS: &[(&str, &str)] = &[
    ("api", "key"),
    ("secret", "key"),
    ("private", "key"),
    ("access", "key"),
    ("signing", "key"),
    ("encryption", "key"),
    ("master", "key"),
    ("jwt", "key"),
    ("hmac", "key"),
    ("subscription", "key"),
    ("client", "key"),
    ("app", "key"),
    ("auth", "key"),
    ("shared", "key"),
    ("symmetric", "key"),
    ("token", "key"),
];

/// A configuration setting (`appsettings.json`, Spring properties, YAML,
/// an env line) whose value is a secret, in any case style; dots and
/// colons separate sections (`app.jwtSecret`, `Jwt:SigningKey`). Used on
/// free text, so names that prose puts before a colon (`token`,
/// `invalid_token`) are not among them.
pub fn is_secret_setting_name(name: &str) -> bool {
    // The section counts (`Jwt:Key`): sections joined as words.
    let joined = name.replace(['.', ':', '/'], "_");
    named_by(&normalise(&joined), SETTING_LAST_WORDS, SETTING_LAST_PAIRS)
}

/// Whether a normalised name ends with one of `last_words` or `last_pairs`
/// (empty words, as in `_fresh`, skipped). Allocates nothing: this runs on
/// every claim of every token `scan` reads.
fn named_by(name: &str, last_words: &[&str], last_pairs: &[(&str, &str)]) -> bool {
    let mut words = name.rsplit('_').filter(|w| !w.is_empty());
    let Some(last) = words.next() else {
        return false;
    };
    last_words.contains(&last)
        || words
            .next()
            .is_some_and(|a| last_pairs.contains(&(a, last)))
}

/// `names` sorted once, for a binary search: these run on every claim of
/// every token `scan` writes, against lists of dozens of names.
fn sorted(names: &'static [&'static str]) -> Vec<&'static str> {
    let mut v = names.to_vec();
    v.sort_unstable();
    v
}

pub fn is_pii_name(name: &str) -> bool {
    static NAMES: LazyLock<Vec<&str>> = LazyLock::new(|| sorted(PII_NAMES));
    let n = normalise(name);
    NAMES.binary_search(&n.as_ref()).is_ok() || named_by(&n, PII_LAST_WORDS, PII_LAST_PAIRS)
}

pub fn is_secret_name(name: &str) -> bool {
    static NAMES: LazyLock<Vec<&str>> = LazyLock::new(|| sorted(SECRET_NAMES));
    let n = normalise(name);
    NAMES.binary_search(&n.as_ref()).is_ok() || named_by(&n, SECRET_LAST_WORDS, SECRET_LAST_PAIRS)
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9._%+\-']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$").expect("static regex")
});
/// ASCII digits only: with Unicode `\d` this one regex took 1.3 ms to build,
/// a quarter of a whole `jwtai diagnose` run. Other digits are mapped to `0`
/// before matching ([`ascii_digits`]), so they still count.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    // `+44 20 …`, `(415) 555-0199`, `1-415-555-0199`, `00 44 20 …` (the
    // international prefix dialled), `(020) 7946 0958`.
    Regex::new(r"^(\+[0-9][0-9 \-().]{6,}[0-9]|(?:1[ \-.])?\(?[0-9]{3}\)?[ \-.][0-9]{3}[ \-.][0-9]{4}|00 ?[1-9][0-9]{0,2}[ \-.][0-9 \-().]{5,}[0-9]|\(0[0-9]{1,4}\) ?[0-9]{3,4}[ \-]?[0-9]{3,4})$")
        .expect("static regex")
});

/// An address with letters beyond ASCII (`jörg.müller@bücher.de`), which
/// [`EMAIL`] (ASCII, cheap to build) does not take.
fn unicode_email(t: &str) -> bool {
    if t.is_ascii() {
        return false;
    }
    let Some((local, domain)) = t.split_once('@') else {
        return false;
    };
    let Some((_, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && !domain.contains(['@', '/', ' '])
        && !domain.starts_with('.')
        && tld.chars().count() >= 2
        && tld.chars().all(char::is_alphabetic)
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "._%+-'".contains(c))
}

/// A phone number in national format, as people write their own: a trunk
/// `0` and an area code, in groups or not (`020 7946 0958`, `06 12 34 56 78`,
/// `0151 23456789`, `07946095812`), 9 to 12 digits in all.
fn national_phone(t: &str) -> bool {
    let b = t.as_bytes();
    if b.len() < 9 || b[0] != b'0' || !matches!(b.get(1), Some(b'1'..=b'9')) {
        return false;
    }
    let separator = |c: u8| matches!(c, b' ' | b'-' | b'.' | b'/');
    if !b.iter().all(|&c| c.is_ascii_digit() || separator(c))
        || b.windows(2).any(|w| separator(w[0]) && separator(w[1]))
        || separator(b[b.len() - 1])
    {
        return false;
    }
    // `05.03.2026 10:15`: a day-first date (German, Russian, .NET in
    // those locales), not a number to call.
    let groups: Vec<&[u8]> = b.split(|&c| separator(c)).take(3).collect();
    if let [day, month, year] = groups[..]
        && day.len() == 2
        && month.len() == 2
        && year.len() == 4
        && b[2] == b[5]
    {
        let n = |g: &[u8]| g.iter().fold(0u32, |a, c| a * 10 + u32::from(c - b'0'));
        if (1..=31).contains(&n(day))
            && (1..=12).contains(&n(month))
            && (1900..2200).contains(&n(year))
        {
            return false;
        }
    }
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let first_group = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if first_group == b.len() {
        // No groups: only a mobile or landline's usual 10 or 11 digits.
        return (10..=11).contains(&digits);
    }
    (9..=12).contains(&digits) && (2..=5).contains(&first_group)
}

/// `s` as ASCII where it is ASCII written wide or hidden: fullwidth forms
/// (`ＡＫＩＡ…`, `４１１１…`, `＋１`) as their ASCII letters, the ideographic
/// full stop (`example。org`) as `.`, zero-width characters dropped (an
/// address split by one is the same address). No copy for ASCII text.
fn fold_width(s: &str) -> Cow<'_, str> {
    let special = |c: char| {
        ('\u{FF01}'..='\u{FF5E}').contains(&c)
            || matches!(
                c,
                '\u{3002}' | '\u{FF61}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
            )
    };
    if s.is_ascii() || !s.chars().any(special) {
        return Cow::Borrowed(s);
    }
    s.chars()
        .filter_map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
            '\u{3002}' | '\u{FF61}' => Some('.'),
            '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => None,
            c => Some(c),
        })
        .collect::<String>()
        .into()
}

/// `s` with every non-ASCII numeric character as `0`, for [`PHONE`].
fn ascii_digits(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() {
        return std::borrow::Cow::Borrowed(s);
    }
    s.chars()
        .map(|c| {
            if c.is_numeric() && !c.is_ascii() {
                '0'
            } else {
                c
            }
        })
        .collect::<String>()
        .into()
}
static API_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|sk_(live|test)_[0-9A-Za-z]{10,}|rk_live_[0-9A-Za-z]{10,}|gh[pousr]_[0-9A-Za-z]{30,}|github_pat_[0-9A-Za-z_]{30,}|xox[abpr]-[0-9A-Za-z\-]{10,}|AIza[0-9A-Za-z_\-]{30,40}|sk-[A-Za-z0-9_\-]{20,}|glpat-[0-9A-Za-z_\-]{20})$")
        .expect("static regex")
});

/// Every alternative of [`API_KEY`] starts with one of these.
const API_KEY_PREFIXES: &[&str] = &[
    "AKIA",
    "ASIA",
    "sk",
    "rk_live_",
    "gh",
    "github_pat_",
    "xox",
    "AIza",
    "glpat-",
];

/// The sensitive shape of a string value, if any.
pub fn classify(s: &str) -> Option<Shape> {
    let folded = fold_width(s.trim());
    let t = folded.as_ref();
    if t.starts_with("-----BEGIN ") && t.contains("PRIVATE KEY-----") {
        return Some(Shape::PrivateKey);
    }
    if t.len() < 6 {
        return None;
    }
    if t.starts_with("eyJ") && t.bytes().filter(|&b| b == b'.').take(2).count() >= 2 {
        return Some(Shape::Jwt);
    }
    if t.len() > MAX_CLASSIFIED {
        return classify_long(t);
    }
    if is_credential(t) {
        return Some(Shape::Credential);
    }
    if is_iban(t) || (t.contains(' ') && t.len() <= 42 && is_iban(&t.replace(' ', ""))) {
        return Some(Shape::Iban);
    }
    // A SHA-256-sized hex string or longer: a key or a hash, not an id
    // (trace ids are 32 hex digits, commit ids 40).
    if t.len() >= 48 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(Shape::HighEntropy);
    }
    // The anchored regexes run only when the first characters can start a
    // match: this runs on every claim of every token `scan` reads.
    if API_KEY_PREFIXES.iter().any(|p| t.starts_with(p)) && API_KEY.is_match(t) {
        return Some(Shape::ApiKey);
    }
    // A Google service account (`sa@project.iam.gserviceaccount.com`, the
    // `iss` of its tokens) is a workload, not a person.
    // `mailto:ann@example.com`; `ann＠example.com` with a fullwidth at sign.
    let address = t.strip_prefix("mailto:").unwrap_or(t);
    let address: Cow<'_, str> = if address.contains('＠') {
        Cow::Owned(address.replace('＠', "@"))
    } else {
        Cow::Borrowed(address)
    };
    if address.contains('@') && (EMAIL.is_match(&address) || unicode_email(&address)) {
        return (!address.ends_with(".gserviceaccount.com")).then_some(Shape::Email);
    }
    // An address, with a port (`203.0.113.5:8080`, `[2001:db8::1]:443`) or
    // a prefix length (`203.0.113.5/32`) too.
    let address = t.split_once('/').map_or(t, |(a, bits)| {
        if bits.bytes().all(|b| b.is_ascii_digit()) {
            a
        } else {
            t
        }
    });
    if address.parse::<std::net::IpAddr>().is_ok()
        || address.parse::<std::net::SocketAddr>().is_ok()
    {
        return Some(Shape::Ip);
    }
    if is_ssn(t) {
        return Some(Shape::Ssn);
    }
    if is_card(t) {
        return Some(Shape::Card);
    }
    let t = t.strip_prefix("tel:").unwrap_or(t);
    let phone_start = t
        .chars()
        .next()
        .is_some_and(|c| c == '+' || c == '(' || c.is_numeric());
    if phone_start && {
        let t = ascii_digits(t);
        PHONE.is_match(&t) || national_phone(&t)
    } {
        return Some(Shape::Phone);
    }
    if high_entropy(t) {
        return Some(Shape::HighEntropy);
    }
    None
}

/// Past this length a value is no address, phone or key of a known format;
/// it is only looked at for what a long value can be (a token, a credential
/// URL, a long secret), and on its first [`MAX_CLASSIFIED`] bytes, so that
/// a megabyte value costs no more than a short one.
const MAX_CLASSIFIED: usize = 4096;

/// [`classify`] for a value longer than [`MAX_CLASSIFIED`]: a JWT (tested
/// before), a URL carrying credentials, or a long run of random characters
/// (a SAML response, an encrypted blob, a key), judged on its start.
fn classify_long(t: &str) -> Option<Shape> {
    let mut cut = MAX_CLASSIFIED;
    while !t.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &t[..cut];
    if is_credential(head) {
        return Some(Shape::Credential);
    }
    if high_entropy(head) {
        return Some(Shape::HighEntropy);
    }
    None
}

/// Names of URL query parameters whose values are credentials, as a regex
/// alternation (redaction masks the same parameters inside text).
/// Any name ending in `token` (`access_token`, `accessToken`,
/// `private_token`, `x-amz-security-token`) is one. Parameters follow `?`,
/// `&` or `;`, or `#` in a fragment (an implicit grant's `#access_token=`).
pub const SECRET_PARAMS: &str = "[a-z_-]*token|code|password|passwd|pwd|secret|client_secret|api_?key|signature|sig|x-amz-signature";

/// A URL carrying a password or a token, a webhook URL, an HTTP
/// credential (`Bearer …`, `Basic …`).
fn is_credential(t: &str) -> bool {
    static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
        // `user:password@`, or a user name that is a token (digits, or long).
        Regex::new(r"^[A-Za-z][A-Za-z0-9+.:-]*://(?:[^/\s:@]*:[^/\s@]+|[^/\s:@]*[0-9][^/\s:@]*|[^/\s:@]{16,})@")
            .expect("static regex")
    });
    static SECRET_PARAM: LazyLock<Regex> = LazyLock::new(|| {
        // A bare `key=` names a tenant as often as a key: only a Google API
        // key's shape under it is one.
        Regex::new(&format!(
            r"(?i)[?&;#](?:(?:{SECRET_PARAMS})=[^&#\s]{{6,}}|key=AIza[0-9A-Za-z_\-]{{30,}})"
        ))
        .expect("static regex")
    });
    static AUTH_VALUE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?i:(bearer)|(basic))\s+([A-Za-z0-9._~+/-]{12,}=*)$").expect("static regex")
    });
    const WEBHOOKS: &[&str] = &[
        "https://hooks.slack.com/services/",
        "https://discord.com/api/webhooks/",
        "https://discordapp.com/api/webhooks/",
    ];
    if t.contains("://") {
        return USERINFO.is_match(t)
            || (t.contains('=') && SECRET_PARAM.is_match(t))
            || WEBHOOKS.iter().any(|w| t.starts_with(w))
            || t.contains(".webhook.office.com/");
    }
    let head = t.as_bytes().first().map(u8::to_ascii_lowercase);
    if head != Some(b'b') {
        return false;
    }
    let Some(c) = AUTH_VALUE.captures(t) else {
        return false;
    };
    let value = &c[3];
    if c.get(2).is_some() {
        // Basic: base64 of `user:password` ("Basic Professional" is a plan).
        return basic_decoded(t).is_some_and(|d| d.contains(&b':'));
    }
    // Bearer: a credential has digits or symbols among letters, and length.
    value.len() >= 20 && value.chars().any(|ch| !ch.is_ascii_alphabetic())
}

/// The bytes an HTTP Basic value (`Basic <base64>`) carries, when the text is
/// one: `user:password`, or a token sent as either.
pub fn basic_decoded(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let text = text.trim();
    let rest = text
        .get(..5)
        .filter(|h| h.eq_ignore_ascii_case("basic"))
        .map(|_| &text[5..])
        .filter(|r| r.starts_with(char::is_whitespace))?;
    base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()
}

/// `123-45-6789`: a US social security number's format (no area 000).
fn is_ssn(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 11
        && b.iter().enumerate().all(|(i, c)| {
            if i == 3 || i == 6 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && &b[..3] != b"000"
}

/// An IBAN: country code, check digits, then the account, with the ISO
/// 13616 mod-97 check.
fn is_iban(t: &str) -> bool {
    let b = t.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b[4..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    let mut rem = 0u32;
    for &c in b[4..].iter().chain(&b[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// Last words of names that hold a time: `exp`, `updated_at`,
/// `createdTime`, `event_ts`, `timestamp`.
const TIME_LAST_WORDS: &[&str] = &[
    "exp",
    "nbf",
    "iat",
    "at",
    "time",
    "ts",
    "timestamp",
    "date",
    "expires",
    "expiry",
    "created",
    "updated",
    "modified",
    "issued",
    "since",
    "until",
    "epoch",
    "ms",
    "millis",
];

/// A name that says its value is a time.
pub fn is_time_name(name: &str) -> bool {
    named_by(&normalise(name), TIME_LAST_WORDS, &[])
}

/// Digits that read as a time from 1990 to 2200 in seconds, milliseconds,
/// microseconds or nanoseconds.
pub fn plausible_time(digits: &str) -> bool {
    const FROM: u128 = 631_152_000; // 1990-01-01
    const TO: u128 = 7_258_118_400; // 2200-01-01
    let Ok(v) = digits.parse::<u128>() else {
        return false;
    };
    [1, 1_000, 1_000_000, 1_000_000_000]
        .iter()
        .any(|scale| (FROM * scale..TO * scale).contains(&v))
}

/// The sensitive shape of a number: a payment card number written as a
/// JSON number (`"pan": 4111111111111111`).
pub fn classify_number(n: &serde_json::Number) -> Option<Shape> {
    if n.is_u64() {
        return n
            .as_u64()
            .and_then(|v| is_card(&v.to_string()).then_some(Shape::Card));
    }
    // `4111111111111111.0`: the same digits written as a float.
    n.as_f64()
        .filter(|v| v.fract() == 0.0 && (1e12..1e19).contains(v))
        .and_then(|v| is_card(&format!("{v:.0}")).then_some(Shape::Card))
}

fn is_card(s: &str) -> bool {
    if !s
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return false;
    }
    // A time in milliseconds, microseconds or nanoseconds from 2001 to 2033
    // (`1773500000014`): 13, 16 or 19 digits from a `1`, which starts no
    // card number of those lengths. One in ten passes the Luhn check.
    if s.starts_with('1')
        && s.bytes().all(|b| b.is_ascii_digit())
        && [13, 16, 19].contains(&s.len())
    {
        return false;
    }
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Long strings without spaces whose characters look random: keys, hashes, secrets.
/// UUIDs and URLs are identifiers, not secrets.
fn high_entropy(s: &str) -> bool {
    // A URN names a format or a namespace
    // (`urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress`).
    if s.len() < 32
        || s.contains(char::is_whitespace)
        || s.contains("://")
        || s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
    {
        return false;
    }
    // A secret of 32 or more random characters has digits (43 base64url
    // characters without one: 1 in 1,500); words from code have none
    // (`SecurityTokenSignatureKeyNotFoundException`).
    if !s.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    if is_uuid(s) || is_qualified_name(s) || is_stack_frame(s) || is_word_id(s) {
        return false;
    }
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum();
    let classes = [
        s.bytes().any(|b| b.is_ascii_lowercase()),
        s.bytes().any(|b| b.is_ascii_uppercase()),
        s.bytes().any(|b| b.is_ascii_digit()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    entropy > 4.0 && classes >= 2
}

/// A qualified name from code: words joined by `.`, `::`, `\\` or `$`
/// (`jwt.exceptions.InvalidSignatureError`, `Firebase\\JWT\\ExpiredException`,
/// `Microsoft.IdentityModel.Tokens.SecurityTokenExpiredException`). Each part
/// starts with a letter; secrets are one unbroken run.
fn is_qualified_name(s: &str) -> bool {
    let parts: Vec<&str> = s
        .split(['.', '\\', '$'])
        .flat_map(|p| p.split("::"))
        .collect();
    // Words, not random runs: no part holds three digits in a row, so
    // `ya29.a0AfB_byC1234567890…` (a Google access token) is no name.
    let words = parts.len() >= 2
        && parts.iter().all(|p| {
            (2..=48).contains(&p.len())
                && p.starts_with(|c: char| c.is_ascii_alphabetic())
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !p
                    .as_bytes()
                    .windows(3)
                    .any(|w| w.iter().all(u8::is_ascii_digit))
        });
    // And a name from code: lower-case package words, or ending in what
    // exception and error types are called. A random `Ab3x.Kq9z` is neither.
    let code_ending = [
        "Error",
        "Exception",
        "Violated",
        "Failed",
        "Expired",
        "Invalid",
    ];
    let last = parts.last().copied().unwrap_or_default();
    // A namespace of plain words, then a type that may carry a number
    // (`Microsoft.IdentityModel.Tokens.X509SecurityKey`).
    // (`System.Security.Cryptography.X509Certificates.X509Certificate2`): a
    // word first, and in every part at most two runs of digits, four in
    // all, where a random run has digits scattered all along.
    let digit_runs = |p: &str| {
        p.as_bytes()
            .windows(2)
            .filter(|w| !w[0].is_ascii_digit() && w[1].is_ascii_digit())
            .count()
    };
    let namespaced = parts.len() >= 3
        && parts[0].bytes().all(|b| b.is_ascii_alphabetic())
        && parts.iter().all(|p| {
            (2..=48).contains(&p.len())
                && p.starts_with(|c: char| c.is_ascii_alphabetic())
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && p.bytes().filter(u8::is_ascii_digit).count() <= 4
                && digit_runs(p) <= 2
        });
    namespaced
        || words
            && (code_ending.iter().any(|e| last.ends_with(e))
                || parts
                    .iter()
                    .all(|p| p.chars().all(|c| c.is_ascii_lowercase() || c == '_')))
}

/// A stack frame as Java, .NET and JavaScript print it:
/// `org.example.Decoder.validate(Decoder.java:189)`, `Foo.Bar(Unknown Source)`.
fn is_stack_frame(s: &str) -> bool {
    let Some((call, rest)) = s.split_once('(') else {
        return false;
    };
    let place = rest.trim_end_matches([')', ',', ';', '.']);
    let file_line = place
        .rsplit_once(':')
        .is_some_and(|(file, line)| file.contains('.') && line.bytes().all(|b| b.is_ascii_digit()));
    (file_line || place == "Unknown Source" || place == "Native Method")
        && (is_qualified_name(call) || call.split('.').count() >= 2)
}

/// An identifier of words and numbers: `rsa-key-2024-03-15-production-primary`,
/// `signing_key_v2_eu_west_1`. Each part is lower-case letters, upper-case
/// letters or digits, never a random mix of them.
fn is_word_id(s: &str) -> bool {
    let mut parts = 0;
    for part in s.split(['-', '_', '.', ':', '/']) {
        let uniform = part.bytes().all(|b| b.is_ascii_lowercase())
            || part.bytes().all(|b| b.is_ascii_uppercase())
            || part.bytes().all(|b| b.is_ascii_digit());
        if !uniform {
            return false;
        }
        parts += 1;
    }
    parts >= 3
}

/// `8-4-4-4-12` hex digits: an identifier, not a secret.
pub(crate) fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(classify("alice.wonderland@example.org"), Some(Shape::Email));
        assert_eq!(classify("jörg.müller@bücher.de"), Some(Shape::Email));
        assert_eq!(classify("用户@例子.广告"), Some(Shape::Email));
        assert_eq!(classify("mailto:ann@example.com"), Some(Shape::Email));
        assert_eq!(classify("fw.user＠corp.com"), Some(Shape::Email));
        assert_eq!(classify("+14155550199"), Some(Shape::Phone));
        assert_eq!(classify("(415) 555-0199"), Some(Shape::Phone));
        // National formats: UK, France, Germany.
        for phone in [
            "020 7946 0958",
            "06 12 34 56 78",
            "06.12.34.56.78",
            "0151 23456789",
            "030-1234567",
            "07946095812",
        ] {
            assert_eq!(classify(phone), Some(Shape::Phone), "{phone}");
        }
        // Dates, versions, ids with leading zeros, short numbers.
        for other in [
            "01.02.2024",
            "0.1.2",
            "0000123456",
            "012345",
            "01 02 03",
            "0123456789012",
        ] {
            assert_ne!(classify(other), Some(Shape::Phone), "{other}");
        }
        // Digits of other scripts count as digits, as Unicode `\d` had them.
        assert_eq!(classify("+٩٦٦ ٥٥ ٥٥٥ ٠١٩٩"), Some(Shape::Phone));
        assert_eq!(classify("(४१५) ५५५-०१९९"), Some(Shape::Phone));
        assert_eq!(classify("203.0.113.7"), Some(Shape::Ip));
        assert_eq!(classify("2001:db8::1"), Some(Shape::Ip));
        assert_eq!(classify("203.0.113.5:8080"), Some(Shape::Ip));
        assert_eq!(classify("[2001:db8::1]:443"), Some(Shape::Ip));
        assert_eq!(classify("203.0.113.5/32"), Some(Shape::Ip));
        assert_eq!(classify("tel:+14155550132"), Some(Shape::Phone));
        let float: serde_json::Number = serde_json::from_str("4111111111111111.0").unwrap();
        assert_eq!(classify_number(&float), Some(Shape::Card));
        assert_eq!(classify("4111 1111 1111 1111"), Some(Shape::Card));
        assert_eq!(classify("AKIAIOSFODNN7EXAMPLE"), Some(Shape::ApiKey));
        for key in [
            "ASIAIOSFODNN7EXAMPLE",
            "sk_live_abcdefghij12",
            "rk_live_abcdefghij12",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "github_pat_abcdefghijklmnopqrstuvwxyz0123456789",
            "xoxb-1234567890-abc",
            "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
            "sk-abcdefghijklmnopqrstuvwxyz",
            "glpat-abcdefghijklmnopqrst",
        ] {
            assert_eq!(classify(key), Some(Shape::ApiKey), "{key}");
        }
        assert_eq!(classify("eyJhbGciOiJIUzI1NiJ9.e30.abc"), Some(Shape::Jwt));
        assert_eq!(
            classify("uaqbeJ6N6hRWKi3iUOPJNxrNPBkMa68koavT8dyBY0meJITobooZsigCnO0GzAfr"),
            Some(Shape::HighEntropy)
        );
    }

    #[test]
    fn long_values_are_classified_on_their_start() {
        // A nested token of any length, a long SAML response, a long URL
        // with a token in it: past 4096 bytes as before it.
        let jwt = format!("eyJhbGciOiJSUzI1NiJ9.eyJ{}.c2ln", "Zz".repeat(5000));
        assert_eq!(classify(&jwt), Some(Shape::Jwt));
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut x = 12345u32;
        let saml: String = (0..6000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                alphabet[(x >> 16) as usize % 64] as char
            })
            .collect();
        assert_eq!(classify(&saml), Some(Shape::HighEntropy));
        let url = format!(
            "https://a.example/cb?access_token=abcdef123456&x={}",
            "y".repeat(5000)
        );
        assert_eq!(classify(&url), Some(Shape::Credential));
        // Long prose is still nothing.
        assert_eq!(classify(&"the token expired ".repeat(400)), None);
    }

    #[test]
    fn credentials_in_url_fragments_camel_case_names_and_google_keys() {
        for url in [
            "https://app.example.com/cb#access_token=FRAGtok9x8y7z6&token_type=Bearer",
            "https://app.example.com/cb?accessToken=CAMELtok9x8y7z6",
            "https://gitlab.example.com/api/v4/user?private_token=PRIVtok9x8y7z6",
            "https://maps.example.com/api?key=AIzaSyKEYVALUE0123456789abcdefghijklmn",
        ] {
            assert_eq!(classify(url), Some(Shape::Credential), "{url}");
        }
        assert_ne!(
            classify("https://app.example.com/cb#state=abcdef123456&token_type=Bearer"),
            Some(Shape::Credential)
        );
    }

    #[test]
    fn social_security_numbers_and_more_phone_formats() {
        assert_eq!(classify("123-45-6789"), Some(Shape::Ssn));
        assert_eq!(classify("000-45-6789"), None);
        for phone in ["1-415-555-0199", "(020) 7946 0958", "00 44 20 7946 0958"] {
            assert_eq!(classify(phone), Some(Shape::Phone), "{phone}");
        }
        for name in [
            "customer_name",
            "contactName",
            "accountHolder",
            "passport_number",
            "national_id_number",
            "ssn_number",
        ] {
            assert!(is_pii_name(name), "{name}");
        }
    }

    #[test]
    fn day_first_dates_and_times_in_milliseconds_are_no_phone_nor_card() {
        for date in ["05.03.2026 10", "06.03.2026 11:00:00", "05/03/2026 10"] {
            assert_ne!(classify(date), Some(Shape::Phone), "{date}");
        }
        // 1773500000014 passes the Luhn check: a time in ms, ns, µs.
        for t in ["1773500000014", "1773500000014000", "1773500000014000006"] {
            assert_eq!(classify(t), None, "{t}");
        }
        assert!(is_time_name("updated_at") && is_time_name("exp") && is_time_name("eventTs"));
        assert!(plausible_time("1773500000014") && plausible_time("1773500000"));
        assert!(!plausible_time("12345") && !plausible_time("99999999999999999999"));
        // Cards stay cards.
        assert_eq!(classify("4111111111111111"), Some(Shape::Card));
    }

    #[test]
    fn wide_and_hidden_characters_do_not_hide_a_shape() {
        assert_eq!(
            classify("ＡＫＩＡＩＯＳＦＯＤＮＮ７ＥＸＡＭＰＬＥ"),
            Some(Shape::ApiKey)
        );
        assert_eq!(
            classify("４１１１１１１１１１１１１１１１"),
            Some(Shape::Card)
        );
        assert_eq!(classify("ann@example\u{200B}.org"), Some(Shape::Email));
        assert_eq!(classify("ann@example。org"), Some(Shape::Email));
    }

    #[test]
    fn secret_setting_names_in_any_case_style() {
        for name in [
            "IssuerSigningKey",
            "SecretKey",
            "app.jwtSecret",
            "jwt.secret-key",
            "JWT_SIGNING_KEY",
            "signingKey",
            "Jwt:Key",
            "Jwt__Key",
        ] {
            assert!(is_secret_setting_name(name), "{name}");
        }
        for name in [
            "invalid_token",
            "token",
            "KeyId",
            "kid",
            "public_key",
            "key",
        ] {
            assert!(!is_secret_setting_name(name), "{name}");
        }
    }

    #[test]
    fn a_random_dotted_secret_is_no_qualified_name() {
        for secret in [
            "SG.Xk9fQ2mLzR7pWbT4vNcY8dHs.Jq3VnB6tKe1GwZuRy5oPx2LmAf",
            "Abcdefghij_Klm3oPqrs.TuvwXyzAB7dEFghIJklmN",
        ] {
            assert!(classify(secret).is_some(), "{secret}");
        }
    }

    #[test]
    fn ordinary_values_are_not_sensitive() {
        for v in [
            "jwt.exceptions.InvalidSignatureError",
            "Firebase\\JWT\\ExpiredException",
            "Microsoft.IdentityModel.Tokens.SecurityTokenExpiredException",
            "Lcobucci::JWT::Validation::RequiredConstraintsViolated",
            "io.jsonwebtoken.security",
            "https://auth.example.com/",
            "read:orders write:orders",
            "30aada55-3070-5f13-bfe6-19698e12e1df",
            "1700000000",
            "admin",
            "org_globex",
            "orders:read:region-eu-0",
            "SecurityTokenSignatureKeyNotFoundException",
            "validationParameters.IssuerSigningKeyResolver",
            "org.springframework.security.oauth2.jwt.NimbusJwtDecoder.validateJwt(NimbusJwtDecoder.java:189)",
            "System.IdentityModel.Tokens.Jwt.JwtSecurityTokenHandler.ValidateSignature(String token)",
            "rsa-key-2024-03-15-production-primary",
            "jwt-signer@my-project-123.iam.gserviceaccount.com",
            "Microsoft.IdentityModel.Tokens.X509SecurityKey",
            "System.Security.Cryptography.X509Certificates.X509Certificate2",
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        ] {
            assert_eq!(classify(v), None, "{v}");
        }
    }

    #[test]
    fn names() {
        assert!(
            is_pii_name("email")
                && is_pii_name("https://example.com/email")
                && is_pii_name("phone_number")
        );
        assert!(
            is_secret_name("password")
                && is_secret_name("db_password")
                && is_secret_name("client_secret")
        );
        assert!(!is_pii_name("scope") && !is_secret_name("sub"));
    }

    #[test]
    fn names_in_any_case_style_and_compounds() {
        for name in [
            "clientSecret",
            "dbPassword",
            "adminPassword",
            "refreshToken",
            "sessionSecret",
            "accessToken",
            "access_token",
            "token",
            "password_hash",
            "passwordHash",
            "APIKey",
            "x-api-key",
            "SigningKey",
            "https://example.com/claims/clientSecret",
            "passwort",
            "contraseña",
            "mot_de_passe",
            "пароль",
            "db_pw",
            "pwdHash",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "firstName",
            "lastName",
            "displayName",
            "surname",
            "streetAddress",
            "date_of_birth",
            "phoneNumber",
            "givenName",
            "familyName",
            "emailAddress",
            "home_address",
            "birth_date",
            "contact_phone",
            "mobile_phone",
            "tel",
            "zip",
            "IPAddress",
            "Email",
            "user-email",
            "vorname",
            "prénom",
            "apellido",
            "geburtsdatum",
            "account_number",
        ] {
            assert!(is_pii_name(name), "{name}");
        }
        // Neither: flags, identifiers, hashes and times that only mention one.
        for name in [
            "email_verified",
            "phone_number_verified",
            "token_use",
            "token_type",
            "at_hash",
            "c_hash",
            "client_secret_expires_at",
            "password_changed_at",
            "client_name",
            "tenant_name",
            "role_name",
            "kid",
            "azp",
            "sid",
            "public_key",
            "nameid",
        ] {
            assert!(!is_secret_name(name), "{name}");
            assert!(!is_pii_name(name), "{name}");
        }
    }

    #[test]
    fn credentials_inside_urls_and_header_values_and_ibans() {
        for c in [
            "postgres://admin:pw-123456@db01.internal:5432/app",
            "redis://:r3disP4ss@10.13.37.42:6379/0",
            "jdbc:mysql://db.internal:3306/app?user=root&password=MyJdbcPw1",
            "https://api.example.com/cb?access_token=abcd1234efgh&x=1",
            "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://IssPass99@auth.example.com/",
            "https://ghp_abcdefghijklmnopqrstu@github.com/org/repo.git",
            "Bearer abcDEF123ghiJKL456mnoPQR789",
            "Basic YWRtaW46aHVudGVyMg==",
        ] {
            assert_eq!(classify(c), Some(Shape::Credential), "{c}");
        }
        for c in [
            "https://auth.example.com/",
            "https://login.example.com/cb?state=1",
            "https://user@example.com/",
            "Bearer token",
            "Basically fine",
            "Basic Professional",
            "https://api.example.com/v1?key=tenant42",
        ] {
            assert_ne!(classify(c), Some(Shape::Credential), "{c}");
        }
        assert_eq!(classify("DE89370400440532013000"), Some(Shape::Iban));
        assert_eq!(classify("DE89 3704 0044 0532 0130 00"), Some(Shape::Iban));
        assert_eq!(classify("GB82WEST12345698765432"), Some(Shape::Iban));
        assert_ne!(classify("DE89370400440532013001"), Some(Shape::Iban));
        let sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert_eq!(classify(sha256), Some(Shape::HighEntropy));
        assert_eq!(
            classify("4bf92f3577b34da6a3ce929d0e0e4736"),
            None,
            "a trace id"
        );
    }
}
