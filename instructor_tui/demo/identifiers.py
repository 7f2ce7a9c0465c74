"""French identifiers for the demo data: IBAN with RIB key, SIRET (Luhn), banks; and their checks.

Check digits are computed for real, so a non-defective dossier carries an IBAN and a SIRET that any
validator accepts; defective ones are made invalid on purpose by the generator.
"""

from __future__ import annotations

import random

# (bank code, name, BIC) of banks common in Grand Est. Codes and BICs are real; accounts are not.
BANKS: tuple[tuple[str, str, str], ...] = (
    ("30004", "BNP Paribas", "BNPAFRPPXXX"),
    ("30003", "Société Générale", "SOGEFRPPXXX"),
    ("30002", "LCL - Le Crédit Lyonnais", "CRLYFRPPXXX"),
    ("10278", "Crédit Mutuel", "CMCIFR2AXXX"),
    ("30087", "CIC Est", "CMCIFRPPXXX"),
    ("20041", "La Banque Postale", "PSSTFRPPSTR"),
    ("14707", "Banque Populaire Alsace Lorraine Champagne", "CCBPFRPPMTZ"),
    ("17206", "Crédit Agricole Alsace Vosges", "AGRIFRPP872"),
    ("16106", "Crédit Agricole de Lorraine", "AGRIFRPP861"),
    ("16705", "Caisse d'Epargne Grand Est Europe", "CEPAFRPP670"),
)
BANK_BY_CODE = {code: (name, bic) for code, name, bic in BANKS}

_LETTERS = {chr(ord("A") + i): str(10 + i) for i in range(26)}


def _to_digits(text: str) -> str:
    return "".join(_LETTERS.get(c, c) for c in text)


def rib_key(bank: str, branch: str, account: str) -> str:
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97:02d}"


def iban_check_digits(country: str, bban: str) -> str:
    return f"{98 - int(_to_digits(bban + country + '00')) % 97:02d}"


def make_french_iban(rng: random.Random, bank: str) -> str:
    """A French IBAN (27 characters, no spaces) with a valid RIB key and valid check digits."""
    branch = f"{rng.randrange(100000):05d}"
    account = f"{rng.randrange(10**11):011d}"
    bban = bank + branch + account + rib_key(bank, branch, account)
    return "FR" + iban_check_digits("FR", bban) + bban


def is_valid_iban(value: str) -> bool:
    iban = value.replace(" ", "").upper()
    if len(iban) < 15 or not iban[:2].isalpha() or not iban.isalnum():
        return False
    if iban.startswith("FR") and len(iban) != 27:
        return False
    return int(_to_digits(iban[4:] + iban[:4])) % 97 == 1


def group_iban(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def luhn_check_digit(digits: str) -> str:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(digits: str) -> bool:
    return digits.isdigit() and luhn_check_digit(digits[:-1]) == digits[-1]


def make_siret(rng: random.Random) -> str:
    """A 14-digit SIRET whose SIREN (9 digits) and whole number both pass the Luhn check."""
    siren = f"{rng.randrange(10**7, 10**8):08d}"
    siren += luhn_check_digit(siren)
    nic = f"{rng.randrange(1, 100):04d}"
    return siren + nic + luhn_check_digit(siren + nic)


def is_valid_siret(value: str) -> bool:
    siret = value.replace(" ", "")
    return len(siret) == 14 and luhn_valid(siret) and luhn_valid(siret[:9])
