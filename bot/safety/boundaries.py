"""The medical boundary: requests for a personal dose or self-injection get a referral, not answers.

The rule. True when the message asks what dose *the writer* (or someone they care for) should take
or be given, asks to change their own dose (double, increase, skip, take extra), or asks how to
inject or prepare a product themselves (at home, on myself, DIY, bought online). False for general
questions, which the doctors' published answers do cover: how long botox lasts, how many units are
typical for an area ("is 20 units a normal amount for frown lines?" asks what is usual, not what to
take), what happens with too much, or what was done to them in the past ("I got 20 units, was that
a lot?"). Only the current request counts; a dose mentioned as history is not a request.
"""

from __future__ import annotations

import re

_ME = r"(?:i|me|my|myself|my (?:husband|wife|son|daughter|child|kid|mom|mum|dad|partner))"
_PRODUCT = (
    r"(?:botox|dysport|xeomin|jeuveau|daxxify|toxin|filler|fillers|juvederm|restylane|"
    r"hyaluronidase|kybella|sculptra|radiesse|semaglutide|ozempic|insulin|it|this|them)"
)
_INJECTABLE = (
    r"(?:botox|dysport|xeomin|jeuveau|daxxify|toxin|fillers?|juvederm|restylane|hyaluronidase|"
    r"kybella|sculptra|radiesse|semaglutide|ozempic|insulin|injections?|shots?|jabs?|needles?)"
)
_DOSE_WORDS = (
    r"(?:units?|u|mg|mcg|ml|cc|syringes?|vials?|doses?|dosage|pills?|tablets?|capsules?|"
    r"injections?|shots?|much|many)"
)

_MEDICINES = (
    r"(?:medication|medicine|meds|dose|blood thinners?|thinners?|aspirin|warfarin|eliquis|"
    r"xarelto|metformin|insulin|antibiotics?|antidepressants?|birth control|steroids?|"
    r"prednisone|accutane|isotretinoin)"
)
# "How many times a year should I get filler" asks about a schedule, not an amount; "how much time
# off work do I need", "how much downtime", "how much money" ask about time or money, not a dose.
_NOT_AMOUNTS = (
    r"(?:times?|years?|months?|weeks?|days?|nights?|sessions|treatments|appointments|hours|"
    r"minutes|downtime|down time|recovery|rest|leave|notice|money|cash|dollars|pounds|euros|"
    r"(?:does|do|will|would) (?:it|this|that|they|\w+) cost)\b"
)

_PATTERNS = [
    # Self-injection: doing it oneself, at home, or from a product bought outside a clinic.
    r"\b(?:inject|injecting|administer|administering)\b[^.?!]{0,40}\b(?:myself|my own|"
    r"at home|by myself|on my own|on myself|yourself at home)\b",
    # "give/do/put" only with the product or an injection as the thing done: "what can I do at
    # home to bring down swelling after filler?" asks about aftercare, not self-injection.
    rf"\b(?:give|giving|do|doing|put|putting)\b (?:\w+ ){{0,2}}?{_INJECTABLE}\b[^.?!]{{0,30}}"
    r"\b(?:myself|at home|by myself|on my own|on myself)\b",
    rf"\b(?:do|doing|give|giving) (?:my|your) own {_INJECTABLE}\b",
    r"\b(?:give|giving) (?:myself|yourself) (?!(?:a |some )?(?:break|time|permission|credit)\b)",
    r"\bself[- ]?(?:inject\w*|administ\w*)\b|\bdiy\b|\bdo it yourself\b",
    r"\bhow (?:do|can|should|would|to) (?:i |you |we )?(?:inject|mix|dilute|reconstitute|"
    r"prepare|draw up|store)\b",
    r"\bwhere (?:do|should|can) i (?:inject|put the needle|stick)\b",
    r"\bhow (?:deep|far|many times) (?:do|should|can) i (?:inject|insert|go)\b",
    r"\b(?:bought|ordered|got)\b[^.?!]{0,30}\b(?:online|amazon|ebay|alibaba|overseas|from a "
    r"friend|(?:a|the) website|the internet|instagram|facebook)\b[^.?!]{0,60}"
    r"\b(?:inject|use|dose|how)\b",
    # A personal dose: "how many units should I get", "what dose is right for me".
    rf"\bhow (?:many|much) (?!{_NOT_AMOUNTS})(?:\w+ ){{0,3}}?(?:should|do|can|must|would|could) "
    rf"{_ME}\b(?! (?:doctor|injector|nurse|provider|derm\w*|surgeon)\b)[^.?!]{{0,30}}"
    r"\b(?:get|take|use|inject|have|need|ask for|request|start (?:with|on)|"
    r"be (?:getting|taking))\b",
    rf"\bwhat (?:dose|dosage|amount|strength|number of units) (?:\w+ ){{0,3}}?(?:should|do|can|"
    rf"would|must) {_ME}\b",
    r"\b(?:dose|dosage|units?|amount) (?:is|would be|are) (?:right|best|safe|ok|good) for me\b",
    rf"\bhow (?:many|much) (?!{_NOT_AMOUNTS}){_DOSE_WORDS}? ?(?:\w+ ){{0,2}}?for me\b",
    rf"\b(?:recommend|suggest|prescribe)\w* (?:\w+ ){{0,3}}?{_DOSE_WORDS} (?:\w+ ){{0,2}}?for "
    rf"(?:me|my)\b",
    # Changing one's own dose.
    rf"\b(?:can|should|could|may|is it ok to|is it safe to) (?:i|we) (?:\w+ ){{0,2}}?(?:double|"
    rf"triple|increase|decrease|raise|lower|reduce|halve|split|skip|stop|up|cut|change)\b"
    rf"[^.?!]{{0,20}}\b(?:my|the|a|this|that)? ?(?:{_DOSE_WORDS}|{_MEDICINES})\b",
    r"\b(?:can|should|could|may|is it ok to|is it safe to) (?:i|we) (?:\w+ ){0,2}?take (?:an? )?"
    r"(?:extra|more|another|additional|second|double|two|2|three|3)\b",
    rf"\b(?:can|should|could|may|is it ok to|is it safe to) (?:i|we) (?:\w+ ){{0,2}}?(?:take|get|"
    rf"use|have|add|inject) (?:an? )?(?:extra|more|another|additional|second|double|two|2) "
    rf"(?:\w+ ){{0,2}}?(?:{_DOSE_WORDS}|medication|meds|of (?:it|them|{_PRODUCT}))\b",
    rf"\b(?:double|triple|increase|up|raise) (?:up )?(?:on )?my (?:\w+ )?{_DOSE_WORDS}\b",
]
_COMPILED = [re.compile(p) for p in _PATTERNS]
# Questions about what an injector did or what is typical are covered by the doctors' answers.
_GENERAL = re.compile(
    r"\b(?:is|are|was|were) (?:\w+ ){0,3}(?:normal|typical|usual|standard|average|a lot|too much|"
    r"enough|common)\b"
)


def _normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"\b(\d+)\s*(units?|u|mg|ml|cc)\b", r"\1 \2", text)
    return re.sub(r"\s+", " ", text)


def personal_dosing_request(text: str) -> bool:
    """True when the message asks for a personal dose, a dose change or self-injection steps."""
    if not isinstance(text, str):
        raise ValueError(f"expected a string, got {type(text).__name__}")
    norm = _normalise(text)
    for pattern in _COMPILED:
        match = pattern.search(norm)
        if match and not _GENERAL.search(match.group()):
            return True
    return False
