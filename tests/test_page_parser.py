"""Golden parse of both seed pages, field by field, plus pages the parser has never seen."""

from __future__ import annotations

import pytest

from tests.conftest import SEEDS
from vectorstore.corpus import read_page
from vectorstore.errors import PageFormatError
from vectorstore.page_parser import parse_page, split_city_specialty

FIELDS = ("heading", "doctor", "credentials", "location", "specialty", "rating", "review_count")

# Written by hand from reading seeds/000_674dcb4655ddd097.txt.
PAGE_000 = [
    dict(
        heading="Botox done 4 weeks ago,",
        doctor=None,
        credentials=None,
        location=None,
        specialty=None,
        rating=None,
        review_count=None,
        text="Botox is not permanent and will last 2-4 months.",
    ),
    dict(
        heading=None,
        doctor=None,
        credentials=None,
        location=None,
        specialty=None,
        rating=None,
        review_count=None,
        text=(
            "Thank you for your question.\n\n"
            "There is no reverse effect for botox injections. It will begin to wear off in 3-4 "
            "months. To be sure, see two or more board-certified providers in your area for a "
            "complete evaluation to make sure you are a good candidate and that it is safe for "
            "you to have treatment.\n\n"
            "I hope this helps."
        ),
    ),
    dict(
        heading=None,
        doctor="Gail Nield",
        credentials="MD, FRCPC",
        location="Toronto",
        specialty="Dermatologist",
        rating=None,
        review_count=None,
        text=(
            "Botox will wear off in approximately 3 months. This can be a difficult condition to "
            "treat. Please see your injecting physician who will be able to help you further."
        ),
    ),
    dict(
        heading="Botox and hemi-facial spasm",
        doctor="Gustavo A. Diaz",
        credentials="MD",
        location="Charlotte",
        specialty="Facial Plastic Surgeon",
        rating=None,
        review_count=None,
        text=(
            "I do not regularly inject patients with Bell's Palsy of Hemi-facial Spasm because it "
            "is extremely difficult to get symmetry of control on how much function you want to "
            "attenuate. it is not impossible, but is hard to do. Usually I get many patients that "
            "do it at another places and they are never happy with the results. The effects "
            "should wear off in about 3 months."
        ),
    ),
    dict(
        heading="Botox not permanent",
        doctor="T.G. Khan",
        credentials="DO, FACS",
        location="Fort Lee",
        specialty="Oculoplastic Surgeon",
        rating=None,
        review_count=None,
        text=(
            "The botox will wear off with time - perhaps 3 months. The effect does wear off "
            "slowly however."
        ),
    ),
    dict(
        heading="Botox and Bell's Palsy",
        doctor="John Serrao",
        credentials=None,
        location=None,
        specialty=None,
        rating=None,
        review_count=None,
        text=(
            "Thank you for your question. I am sorry to hear about your condition. It has been my "
            "practice not to use Botox or any neurotoxins in patients with a history of "
            "neurological conditions such as Bell's Palsy. The results of Botox should not be "
            "permanent. Please be sure to follow-up with your provider and always disclose your "
            "history of Bells' Palsy before you receive any injections in the future."
        ),
    ),
    dict(
        heading="Lack of motion after Botox",
        doctor=None,
        credentials=None,
        location=None,
        specialty=None,
        rating=None,
        review_count=None,
        text=(
            "The good news is that the effects of Botox will wear off over a period of 2-4 months "
            "and there should be no permanent changes. Make sure you follow up with your injector."
        ),
    ),
    dict(
        heading="Botox duration of action",
        doctor="Craig B. Boswell",
        credentials="MD",
        location="Saint Louis",
        specialty="Plastic Surgeon",
        rating=None,
        review_count=None,
        text=(
            "The duration of action of Botox is 3-4 months in most patients. It is not a permanent "
            "treatment, so you will see the effect of the Botox go away over that time period. It "
            "would be good to meet with your injector at this point, so that you can assess the "
            "results to determine what you do and don't like about your treatment. Next time they "
            "will be able to adjust the dosing and location of the Botox to help with achieving a "
            "better result for you (good treatment of the spasm with less visibility of the "
            "Bell's Palsy. I always tell patients that the blessing and curse of Botox is that "
            "\"if you like the results they will go away, and if you don't like the results, they "
            'will go away."'
        ),
    ),
    dict(
        heading="Botox and Bell's Palsy",
        doctor=None,
        credentials=None,
        location=None,
        specialty=None,
        rating=None,
        review_count=None,
        text=(
            "Sometimes when a person is injected with Botox and they have Bell's Palsy the "
            "non-affected side of the face will be affected differently. It is impossible to know "
            "this as an injector because its not always the case and certain nerves will respond "
            "differently. The reason is that people with Bell's Palsy already have nerves that "
            "respond differently than others. In time the Botox will wear off and you will return "
            "to the way it was before.\n\n"
            '"This answer has been solicited without seeing this patient and cannot be held as '
            "true medical advice, but only opinion. Seek in-person treatment with a trained "
            'medical professional for appropriate care."'
        ),
    ),
    dict(
        heading="Is botox permanent",
        doctor=None,
        credentials=None,
        location=None,
        specialty=None,
        rating=None,
        review_count=None,
        text=(
            "Nothing that occurs with Botox injection--good or bad--is permanent so it will wear "
            "off in 3-4 months and then you can have it done again and discuss your issues with "
            "the doctor so adjustments if necessary can be made"
        ),
    ),
]

# Written by hand from reading seeds/001_3189914d5f52dce4.txt.
PAGE_001 = [
    dict(
        heading="Botox and sideeffects",
        doctor=None,
        credentials=None,
        location="Nashville",
        specialty="Dermatologist",
        rating=5.0,
        review_count=4,
        text=(
            "There has NEVER been a permanent side effect from the use of Botox or any of the "
            "other botulinum toxins."
        ),
    ),
    dict(
        heading="Botox side effects",
        doctor="Alex Eshaghian",
        credentials="MD, PhD",
        location="Encino",
        specialty="Physician",
        rating=5.0,
        review_count=3,
        text=(
            "Thank you for your question Avril71. I am sorry to hear about your situation. Botox "
            "is a purified protein used to address wrinkles associated with facial expression. "
            "Side effects are rare. But when they occur they can lead to significant distress. I "
            "have seen a lot of this on Real Self. When one is distressed it is natural to seek "
            "help. But most of the time when the side effects resolve follow up posts are not "
            "seen. I have treated thousands of patients with Botox and from time to time there "
            "have been side effects such as droopy eyelids. I have never seen a permanent side "
            "effect from Botox in my experience. Please consult with a doctor for specific "
            "recommendations. Good luck!"
        ),
    ),
    dict(
        heading=None,
        doctor="Edwin Ishoo",
        credentials="MD",
        location="Cambridge",
        specialty="Facial Plastic Surgeon",
        rating=4.4,
        review_count=20,
        text=(
            "Is this a statement or is there a question? Effects of Botox are temporary and wear "
            "off in 3-4 months. Seek qualified and experienced physician for your elective "
            "cosmetic MEDICAL treatments to minimize risk of maloccurance."
        ),
    ),
    dict(
        heading=(
            "So many people on RealSelf are saying Botox side effects are permanent? This is new "
            "to me - can this happen?"
        ),
        doctor="William Marshall Guy",
        credentials="MD",
        location="The Woodlands",
        specialty="Facial Plastic Surgeon",
        rating=5.0,
        review_count=28,
        text=(
            "Hello Avril71,\n\n"
            "Sorry to hear about your response (which is also visible in your photo).  The effects "
            "of Botox are not permanent.  They tend to last for about 3 months in most people "
            "(some a little less, some a little longer).  If you were treated in October, you "
            "should would likely have improvement this month.  If you cannot wait, there are eye "
            "drops which can be used to help your droopy eyelid.\n\n"
            "Also, you may consider a different injector in the future as getting a droopy eyelid "
            "is not the goal of treatment and is not common.\n\n"
            "I hope this helps and good luck."
        ),
    ),
    dict(
        heading="Botox effects are not permanent",
        doctor="Elizabeth Morgan",
        credentials="MD, PhD",
        location="Atlanta",
        specialty="Plastic Surgeon",
        rating=4.6,
        review_count=43,
        text=(
            "Thank you for asking about your Botox -\n\n"
            "• I am so sorry this happened and understand your distress.\n"
            "• Your photo suggests that your Botox was injected into the zygomaticus major and "
            "levator palpebrae muscles in error.\n"
            "• This is not permanent.\n"
            "• Botox wears off by itself, usually in 3 months.\n"
            "• In some people it lasts longer, up to a year - and it takes that long to wear off.\n"
            "• I suspect the person who treated you was not a physician and/or had little "
            "experience.\n"
            "• That said, even in the most experienced hands, these things can happen - but it is "
            "disturbing that you had two significant effects that are usually easy to avoid.\n"
            "Always see a Board Certified Plastic Surgeon.\n"
            "Hope you find this information helpful. Best wishes."
        ),
    ),
]


def _check(page, expected):
    assert len(page.answers) == len(expected)
    for answer, want in zip(page.answers, expected, strict=True):
        for name in FIELDS:
            assert getattr(answer, name) == want[name], (answer.index, name)
        assert answer.text == want["text"], answer.index


def test_page_000_golden():
    page = read_page(SEEDS / "000_674dcb4655ddd097.txt")
    assert page.id == "000_674dcb4655ddd097"
    assert page.title == (
        "Botox done 4 weeks ago, now almost no movement on the side injected. Is this permanent?"
    )
    assert page.body.startswith("I received botox for hemi-facial spasms 1 week later")
    assert page.body.endswith("Any information would be of help.")
    assert page.declared_answers == 12
    assert [a.index for a in page.answers] == list(range(10))
    _check(page, PAGE_000)
    # Fewer answers than declared, each parsed cleanly: information, not a warning.
    assert page.warnings == ()
    assert len(page.notes) == 1
    assert "declares 12 answers but 10 were found" in page.notes[0]
    assert "000_674dcb4655ddd097" in page.notes[0]


def test_page_001_golden():
    page = read_page(SEEDS / "001_3189914d5f52dce4.txt")
    assert page.title.startswith("So many people on RealSelf are saying Botox side effects")
    assert page.title.endswith("(Photo)")
    assert page.body.startswith("I am very depressed about my botox result")
    assert page.declared_answers == 5
    assert page.warnings == ()
    _check(page, PAGE_001)
    # The site footer belongs to no answer.
    assert all("educational purposes" not in a.text for a in page.answers)


def test_unsigned_answer_is_never_given_a_name():
    page = read_page(SEEDS / "000_674dcb4655ddd097.txt")
    assert page.answers[0].attribution == "a doctor who answered on this page"
    nashville = read_page(SEEDS / "001_3189914d5f52dce4.txt").answers[0]
    assert nashville.doctor is None
    assert "Nashville Dermatologist" in nashville.attribution
    assert "name not given" in nashville.attribution


# A page in the same format the parser has never seen: other names, credentials, multi-word
# cities, a plain name without credentials, a heading-less first answer, a page footer.
NEW_PAGE = """\
Can I take ibuprofen before fillers?

I have lip filler booked next week. Is it safe to take Advil for a headache the day before?

Doctor Answers 4

Avoid blood thinners

Ibuprofen thins the blood and raises the risk of bruising. Stop it 7 days before your filler if your doctor agrees.

Maria de la Cruz, MD, FAAD
Los Angeles Dermatologist
4.9 out of 5 stars 112 reviews

Tylenol is the safer choice for pain before fillers. Ask your injector first.


Bruising risk

Most injectors ask patients to avoid ibuprofen, aspirin and fish oil for a week.

Dr. Sam O'Neil
New York City Facial Plastic Surgeon

Talk to your injector

Every patient is different. Call the office and ask.

Jane Smith
Salt Lake City Oculoplastic Surgeon

These answers are for educational purposes and should not be relied upon as a substitute for medical advice.
"""


def test_new_page_in_the_same_format():
    page = parse_page(NEW_PAGE, "new_page")
    assert page.title == "Can I take ibuprofen before fillers?"
    assert page.declared_answers == 4 and len(page.answers) == 4 and page.warnings == ()
    first, second, third, fourth = page.answers
    assert (first.heading, first.doctor, first.credentials) == (
        "Avoid blood thinners",
        "Maria de la Cruz",
        "MD, FAAD",
    )
    assert (first.location, first.specialty, first.rating, first.review_count) == (
        "Los Angeles",
        "Dermatologist",
        4.9,
        112,
    )
    assert second.heading is None and second.doctor is None
    assert (
        second.text
        == "Tylenol is the safer choice for pain before fillers. Ask your injector first."
    )
    assert (third.heading, third.doctor, third.credentials) == ("Bruising risk", "Sam O'Neil", None)
    assert (third.location, third.specialty) == ("New York City", "Facial Plastic Surgeon")
    assert (fourth.doctor, fourth.location, fourth.specialty) == (
        "Jane Smith",
        "Salt Lake City",
        "Oculoplastic Surgeon",
    )
    assert fourth.text == "Every patient is different. Call the office and ask."


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("The Woodlands Facial Plastic Surgeon", ("The Woodlands", "Facial Plastic Surgeon")),
        ("Saint Louis Plastic Surgeon", ("Saint Louis", "Plastic Surgeon")),
        ("Fort Lee Oculoplastic Surgeon", ("Fort Lee", "Oculoplastic Surgeon")),
        ("Nashville Dermatologist", ("Nashville", "Dermatologist")),
        ("Montreal Plastic Surgeon", ("Montreal", "Plastic Surgeon")),
        ("Always see a Board Certified Plastic Surgeon.", None),
        ("Botox and Bell's Palsy", None),
    ],
)
def test_city_specialty_split(line, expected):
    assert split_city_specialty(line) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Just some notes about my day.\nNothing else here.\n", "no 'Doctor Answers' line"),
        ("A question?\n\nBody.\n\nDoctor Answers 3\n\n", "has no answer text"),
        ("Doctor Answers 2\n\nSome answer.\n", "no question title"),
    ],
)
def test_not_a_page_is_a_clear_error(text, message):
    with pytest.raises(PageFormatError, match=message) as info:
        parse_page(text, "bad", "pages/bad.txt")
    assert "pages/bad.txt" in str(info.value)
