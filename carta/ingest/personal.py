"""One rule for personal data, shared by every reader (Carta's format, wide sheets, SDTM/ADaM,
REDCap): which columns identify a person, which ids look like a name or a date, and what of a
refused row may be written to a quarantine file.

Carta keeps pseudonymous ids and study days only. A column named like a personal identifier is
refused whole, with a reason saying so, and nothing of it is stored or written anywhere. Names
match whatever their case, spacing, punctuation and accents, in English and the common European
languages.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from carta.ingest.problems import DATE_IN_TEXT

REASON = (
    "personal data (it identifies a person): the column is refused and nothing of it is stored "
    "or written (Carta keeps pseudonymous ids and study days only)"
)
ID_REASON = (
    "looks like a name or a date, not a pseudonymous id: refused (use the study's subject code)"
)

# Whole column names, normalised (see normalise): identifiers of a person in English, German,
# French, Italian, Spanish, Portuguese, Dutch, Swedish, Danish, Norwegian and Polish, and the
# CDISC variables that hold them.
_NAMES = {
    # names
    "name", "names", "first_name", "firstname", "forename", "given_name", "middle_name",
    "last_name", "lastname", "surname", "family_name", "maiden_name", "full_name",
    "patient_name", "patients_name", "subject_name", "initials", "patient_initials",
    "vorname", "nachname", "familienname", "geburtsname", "nom", "prenom", "nom_de_famille",
    "nome", "cognome", "nombre", "apellido", "apellidos", "primer_apellido", "sobrenome",
    "naam", "voornaam", "achternaam", "namn", "fornavn", "efternavn", "etternavn", "imie",
    "nazwisko", "invnam",
    # birth
    "dob", "d_o_b", "date_of_birth", "birth_date", "birthdate", "birthday", "brthdtc", "brthdt",
    "geburtsdatum", "geburtstag", "geb_datum", "date_de_naissance", "data_di_nascita",
    "fecha_de_nacimiento", "data_de_nascimento", "geboortedatum", "fodelsedatum",
    "fodselsdato", "data_urodzenia",
    # record and insurance numbers
    "mrn", "medical_record_number", "medical_record_no", "record_number", "hospital_number",
    "hospital_no", "case_number", "nhs", "nhs_number", "nhs_no", "chi_number", "ssn",
    "social_security_number", "insurance_number", "health_insurance_number",
    "versichertennummer", "krankenversichertennummer", "patientennummer", "fallnummer", "nir",
    "numero_de_securite_sociale", "codice_fiscale", "tessera_sanitaria", "dni", "nie", "nif",
    "nuss", "bsn", "burgerservicenummer", "personnummer", "cpr", "cpr_nummer", "pesel", "ahv",
    "ahv_nummer", "avs", "passport", "passport_number",
    # contact
    "address", "home_address", "street", "street_address", "postcode", "post_code",
    "postal_code", "zip", "zip_code", "city_of_residence", "adresse", "anschrift", "strasse",
    "plz", "wohnort", "code_postal", "indirizzo", "cap", "direccion", "codigo_postal",
    "endereco", "morada", "adres", "postcode_nl", "phone", "phone_number", "telephone",
    "telephone_number", "tel", "mobile", "mobile_number", "cell_phone", "fax", "telefon",
    "telefonnummer", "handy", "telefono", "cellulare", "movil", "telefone", "telemovel",
    "telefoon", "email", "e_mail", "email_address", "mail", "courriel", "correo",
    "correo_electronico",
}  # fmt: skip
# Words that make any column personal wherever they stand in its name ("Patient MRN", "NHS no").
_WORDS = {
    "dob", "mrn", "nhs", "ssn", "brthdtc", "invnam", "geburtsdatum", "naissance", "nascita",
    "nacimiento", "nascimento", "geboortedatum", "fodelsedatum", "personnummer",
    "codice_fiscale", "email", "e_mail", "phone", "telephone", "telefon", "telefono",
}  # fmt: skip
# "… name" is personal when it names a person ("Patient Name", "Mother's maiden name").
_WHOSE_NAME = re.compile(
    r"(^|_)(patient|patients|subject|person|first|last|given|family|middle|maiden|full|"
    r"mother|mothers|father|fathers|parent|guardian|contact|next_of_kin|investigator)_name$"
)
# CDISC and CDASH names of dates and of people (never in a quarantine file).
_CDISC_NOT_WRITTEN = re.compile(r"(DTC|DTM|DT|DAT|TM|DUR)$|^BRTH|^INVNAM|^INVID|^SUBJID|^SITEID")
_DATE_COLUMN = re.compile(r"(^|_)(date|datum|fecha|data|dt|dtc|time|timestamp)($|_)")


def normalise(name: object) -> str:
    """Lower case, accents and punctuation removed, words joined by "_": "Date de naissance" and
    "DATE-DE-NAISSANCE" both give "date_de_naissance"; "Straße" gives "strasse"."""
    text = unicodedata.normalize("NFKD", str(name).replace("ß", "ss"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("'", "").replace("’", "")
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def is_personal(name: object) -> bool:
    """Whether a column of this name identifies a person."""
    key = normalise(name)
    if key in _NAMES or _WHOSE_NAME.search(key):
        return True
    joined = f"_{key}_"
    return any(f"_{word}_" in joined for word in _WORDS)


_NAME_LIKE = re.compile(r"[^\W\d_]{2,}(?:[ ,'’.-]+[^\W\d_]{2,})*[ ,]+[^\W\d_]{2,}")


def looks_like_name_or_date(patient_id: object) -> bool:
    """An id that is a person's name ("Müller, Hans", "Hans Müller") or holds a date
    ("2012-05-03", "03/05/2012", "JD-12MAR2014"): not a pseudonymous id."""
    text = str(patient_id).strip()
    if DATE_IN_TEXT.search(text):
        return True
    return _NAME_LIKE.fullmatch(text) is not None


def is_date_column(name: object) -> bool:
    """A column that holds calendar dates by its name: never written to a quarantine file."""
    return bool(_CDISC_NOT_WRITTEN.search(str(name))) or bool(_DATE_COLUMN.search(normalise(name)))


WITHHELD = "(withheld: looks like a name or a date)"
_ID_COLUMN = re.compile(r"(^|_)(id|usubjid|subjid|record_id|subject)$")


def for_quarantine(frame: pd.DataFrame) -> pd.DataFrame:
    """Refused rows as a quarantine file may hold them: without personal columns, without date
    columns (by name), without any text column holding a date in any common form, and with an
    id that looks like a name or a date withheld."""
    frame = frame.copy()
    for column in frame.columns:
        if _ID_COLUMN.search(normalise(column)):
            named = frame[column].map(looks_like_name_or_date, na_action="ignore")
            frame[column] = frame[column].astype(object).where(~named.fillna(False).astype(bool),
                                                               WITHHELD)  # fmt: skip
    kept = []
    for column in frame.columns:
        if is_personal(column) or is_date_column(column):
            continue
        values = frame[column]
        if (pd.api.types.is_string_dtype(values) or values.dtype == object) and any(
            DATE_IN_TEXT.search(str(v)) for v in values.dropna()
        ):
            continue
        kept.append(column)
    return frame[kept]
