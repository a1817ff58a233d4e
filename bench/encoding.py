"""``sms_contract.sender.encoding.analyze`` against PyPI's ``smsutil``: speed and verdicts."""

from __future__ import annotations

import random
from functools import partial
from importlib.metadata import version

import smsutil

from bench import Section, markdown_table, measure
from sms_contract.core.encoding import (
    GSM_DEFAULT_ALPHABET,
    GSM_EXTENSION_TABLE,
    analyze,
)

_SENTENCE = (
    "Votre rendez-vous du 12/03 a 10h00 est confirme. Pour annuler, repondez STOP "
    "ou appelez le 01 23 45 67 89. Merci de votre confiance, a bientot ! INOCX "
)

#: The timed texts: name -> text.
TIMED = {
    "GSM, 160 characters": (_SENTENCE * 2)[:160],
    "GSM, 1,000 characters": (_SENTENCE * 8)[:1000],
    "GSM with extension characters, 1,000 characters": ("Prix : 10€ [promo] {-5%} " * 50)[:1000],
    "UCS-2 accents, 70 characters": (
        "Fête de Noël à l’hôtel : maïs, crème brûlée, bûche. Réservez vite ça ! " * 2
    )[:70],
    "UCS-2 text with emoji, 70 characters": ("Merci 🙏 à bientôt 😀 " * 5)[:70],
    "UCS-2 emoji only, 70 characters": ("😀🎉🙏👍🎂" * 14)[:70],
}

#: The goals: at least this many times faster than smsutil.
GOALS = {"GSM, 160 characters": 10.0}
DEFAULT_GOAL = 1.0

#: The agreement battery: name -> text.
BATTERY = {
    "160 × `a`": "a" * 160,
    "161 × `a`": "a" * 161,
    "307 × `a`": "a" * 307,
    "80 × `€`": "€" * 80,
    "80 × `€` + `a`": "€" * 80 + "a",
    "152 × `a` + `€` + 10 × `a` (`€` at the 153 boundary)": "a" * 152 + "€" + "a" * 10,
    "form feed (extension table)": "page\fbreak",
    "`é è à ù ì ò É Ç`": "é è à ù ì ò É Ç",
    "`Votre reçu` (`ç`)": "Votre reçu",
    "`À bientôt` (`À`, `ô`)": "À bientôt",
    "`L’été` (typographic apostrophe)": "L’été",
    "`e` + combining acute (decomposed `é`)": "caf" + "e\u0301",
    "no-break space": "10\u00a0€",
    "Greek capital alpha `Α` (U+0391)": "ΑΒΓ",
    "71 × `ç`": "ç" * 71,
    "35 × 😀": "😀" * 35,
    "36 × 😀": "😀" * 36,
    "66 × `a` + 😀 + 10 × `b` (😀 at the 67 boundary)": "a" * 66 + "😀" + "b" * 10,
    "escape U+001B + `e`": "Total: 5\x1be",
    "empty text": "",
}

#: Disagreements this benchmark expects, by battery name, and why.
EXPECTED_DISAGREEMENTS = {"escape U+001B + `e`", "empty text"}

FINDINGS = """\
**Where smsutil disagrees, and who is right per GSM 03.38 (3GPP TS 23.038):**

- **U+001B (ESC) in the text.** smsutil's basic character set includes `\\x1b`
  at code 0x1B, so it calls `"Total: 5\\x1be"` GSM-7 and encodes the
  character as a bare 0x1B septet. In GSM 03.38, 0x1B is not a character but
  the escape to the extension table: the receiving phone reads `0x1B 0x65` as
  `€`, so the recipient sees `Total: 5€`. U+001B cannot be sent in GSM-7;
  `analyze` counts it as outside the alphabet (UCS-2), which is right.
- **The empty text.** smsutil's regular expression needs at least one
  character, so `""` is "not GSM" and comes out as UCS-2 (one part).
  `analyze` says GSM-7, one part. The contract refuses an empty text anyway
  (`minLength` 1), so this only matters to callers who count before
  validating; GSM-7 is the natural answer (nothing outside the alphabet).

**Where they agree** (and a careless implementation would not): `ç` (U+00E7)
is outside the alphabet, whose code 0x09 is the capital `Ç`; `À` is outside
while `à` is in; a decomposed `é` (`e` + U+0301) is UCS-2 (neither library
normalises to NFC); a two-septet extension character or a surrogate pair that
would straddle a part boundary moves whole to the next part; an emoji is two
UTF-16 units (smsutil counts 4 bytes, the same thing); form feed is in the
extension table.

smsutil does not report which characters force UCS-2; `analyze` does, on
first access to `Analysis.offending`. The speed table times `analyze` alone
(what smsutil computes: encoding, units, parts) and, for fairness, also
`analyze` with the offending characters."""


def _ours(text: str) -> tuple[str, int, int, list[int]]:
    analysis = analyze(text)
    return analysis.encoding, analysis.units, analysis.credits, [e - s for s, e in analysis.parts]


def _smsutil(text: str) -> tuple[str, int, int, list[int]]:
    result = smsutil.split(text)
    gsm = result.encoding == "gsm0338"
    units = result.total_bytes if gsm else result.total_bytes // 2
    return ("GSM-7" if gsm else "UCS-2"), units, len(result.parts), [p.length for p in result.parts]


def _verdict(result: tuple[str, int, int, list[int]]) -> str:
    encoding, units, credits, _ = result
    return f"{encoding}, {units} units, {credits} part(s)"


def _offending(text: str) -> object:
    return analyze(text).offending


def speed() -> tuple[str, list[str], list[str]]:
    """The timing table, the goals missed, and the texts where ``analyze`` with
    the offending characters is slower than smsutil."""
    rows, missed, slower = [], [], []
    for name, text in TIMED.items():
        ours = measure(partial(analyze, text))
        with_offending = measure(partial(_offending, text))
        theirs = measure(partial(smsutil.split, text))
        ratio = theirs.best / ours.best
        goal = GOALS.get(name, DEFAULT_GOAL)
        if ratio < goal:
            missed.append(f"{name}: {ratio:.1f}× (goal {goal:g}×)")
        if with_offending.best > theirs.best:
            slower.append(name)
        rows.append(
            [
                name,
                f"{ours.best:.2f} / {ours.median:.2f}",
                f"{with_offending.best:.2f} / {with_offending.median:.2f}",
                f"{theirs.best:.2f} / {theirs.median:.2f}",
                f"**{ratio:.1f}×**",
                f"{goal:g}×",
            ]
        )
        timings = f"analyze {ours.best:8.2f} µs   smsutil {theirs.best:8.2f} µs"
        print(f"  {name:<50} {timings}   {ratio:5.1f}×")
    header = [
        "text",
        "analyze µs (best / median)",
        "analyze + offending µs",
        "smsutil.split µs",
        "speed-up (best)",
        "goal",
    ]
    return markdown_table(header, rows), missed, slower


def agreement() -> tuple[str, set[str]]:
    """The battery table, and the names where the two libraries disagree."""
    rows, disagreements = [], set()
    for name, text in BATTERY.items():
        ours, theirs = _ours(text), _smsutil(text)
        same = ours == theirs
        if not same:
            disagreements.add(name)
        rows.append([name, _verdict(ours), _verdict(theirs), "yes" if same else "**no**"])
    table = markdown_table(["text", "analyze", "smsutil", "same parts"], rows)
    return table, disagreements


def fuzz(count: int = 20_000, seed: int = 3803) -> dict[str, int]:
    """Compare both on random texts; classify the disagreements."""
    generator = random.Random(seed)
    alphabet = [*GSM_DEFAULT_ALPHABET, *GSM_EXTENSION_TABLE * 6, "ç", "’", "\u00a0", "😀", "\x1b"]
    found = {"texts": count, "disagree": 0, "with U+001B": 0, "empty": 0, "other": 0}
    for _ in range(count):
        text = "".join(generator.choices(alphabet, k=generator.randint(0, 500)))
        if generator.random() < 0.7:  # keep most texts GSM-7
            text = "".join(char for char in text if char not in "ç’\u00a0😀\x1b")
        if _ours(text) != _smsutil(text):
            found["disagree"] += 1
            kind = "with U+001B" if "\x1b" in text else "empty" if not text else "other"
            found[kind] += 1
    return found


def run() -> Section:
    """Time both libraries, compare their verdicts, and describe the results."""
    speed_table, missed, slower = speed()
    battery_table, disagreements = agreement()
    fuzzed = fuzz()
    print(f"  battery disagreements: {sorted(disagreements)}")
    print(f"  random texts: {fuzzed}")
    unexpected = sorted(disagreements ^ EXPECTED_DISAGREEMENTS)
    goals = "Every goal is met." if not missed else "**Goals missed:** " + "; ".join(missed) + "."
    offending = (
        "Listing the offending characters as well (work smsutil does not do) is slower "
        f"than smsutil on: {', '.join(slower)}."
        if slower
        else "Listing the offending characters as well keeps `analyze` ahead everywhere."
    )
    surprise = f"\n\n**Unexpected battery results:** {', '.join(unexpected)}." if unexpected else ""
    body = f"""\
`sms_contract.sender.encoding.analyze` against `smsutil.split` (smsutil
{version("smsutil")}), microseconds per call. Goal: at least 10× faster on the
160-character GSM text and never slower on the others. {goals}

{speed_table}

{offending}

### Agreement on encoding and parts

{battery_table}

On {fuzzed["texts"]:,} random texts of 0 to 500 characters (GSM characters,
extension characters, `ç`, `’`, no-break space, emoji and U+001B; most kept
GSM-7), the two disagree on {fuzzed["disagree"]:,}: {fuzzed["with U+001B"]:,}
hold U+001B, {fuzzed["empty"]:,} are empty, {fuzzed["other"]:,} other.{surprise}

{FINDINGS}
"""
    return Section("Encoding: `analyze` against smsutil", body)
