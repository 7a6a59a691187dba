"""The words the loaded complaints are made of: managed lists, staff, names and texts."""

from accounts.roles import Role
from complaints import demo

# The demo's lists, so a benchmark page looks like the demo's; two more categories.
CATEGORIES = [*demo.CATEGORIES, "Data protection", "Fraud and security"]
PRODUCTS = demo.PRODUCTS
ROOT_CAUSES = demo.ROOT_CAUSES
STAFF = (
    [(f"csr{n:02d}", Role.CSR) for n in range(1, 11)]
    + [(f"resolver{n:02d}", Role.RESOLVER) for n in range(1, 7)]
    + [(f"manager{n:02d}", Role.MANAGER) for n in range(1, 4)]
)
FIRST_NAMES = (  # noqa: SIM905  (a word list reads better as words)
    "Olivia Amelia Isla Ava Mia Grace Sophia Lily Freya Emily Ivy Ella Rosie Evie Florence "
    "Poppy Charlotte Willow Sienna Harper Noah Oliver George Arthur Leo Harry Oscar Archie "
    "Henry Theodore Freddie Jack Charlie Finley Alfie Jacob Isaac Lucas Edward Samuel Priya "
    "Aisha Fatima Mohammed Yusuf Omar Zara Hannah Chloe Megan Ruth Anna Paul Peter Karen "
    "Sandra Diane Gareth Rhys Siobhan"
).split()
# Common surnames first, in falling frequency; the rest of the customers get a long tail.
COMMON_SURNAMES = (  # noqa: SIM905  (a word list reads better as words)
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Roberts Johnson Robinson "
    "Thompson Wright Wood Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel "
    "Jackson Turner Hill Moore Cooper Ward Morris King Watson Harrison Morgan Baker Young "
    "Allen Mitchell Anderson Lee Martin Bell Parker Price Bennett Griffiths Kelly Simpson "
    "Marshall Collins Phillips Cook Richardson Bailey Carter Murphy Shaw Gray Chapman Ellis "
    "Adams Webb Powell Russell Cox Palmer Stevens Mills Murray Khan Rogers Owen Lloyd "
    "Fisher Hunt Graham Holmes Mason Butler Barnes Knight Ahmed Jenkins Dixon Kaur Barker "
    "Fletcher Harvey Pearson Matthews Reynolds Foster Gibson Hunter Saunders Fox Ali Begum "
    "Singh"
).split()
SURNAME_PREFIXES = (  # noqa: SIM905  (a word list reads better as words)
    "Ash Black Bram Brook Cald Cran Dun Fair Fern Hart Hol Kings Lang Mar Mill Mor Nor Pen "
    "Rad Red Sel Stan Thorn Wad Wel Whit Win Yar Ald Birch"
).split()
SURNAME_MIDDLES = ["", "a", "e", "in", "er", "ing"]
SURNAME_SUFFIXES = (  # noqa: SIM905  (a word list reads better as words)
    "ley ton well wood by ford ham more field wick sall den bury stead croft mere worth "
    "cott hurst gate"
).split()
COMPLAINT_TEXTS = [
    "I was charged twice for the same purchase on {day} and nobody has explained why.",
    "An overdraft fee of £{amount} was applied although I had arranged an overdraft.",
    "My broadband has dropped every evening for {n} days and I work from home.",
    "The adviser at the branch was dismissive and refused to explain the terms.",
    "My application has been waiting for {n} weeks without any update from you.",
    "I cannot log in to online banking since the upgrade on {day}.",
    "The smart meter shows readings {n} times higher than my real usage.",
    "You promised a call back on {day} and it never came.",
    "A direct debit of £{amount} was taken after I cancelled the agreement.",
    "My personal details were sent to the wrong address.",
    "The replacement card arrived broken and the second one never arrived.",
    "I was kept on hold for {n} minutes and then cut off.",
    "The interest charged does not match the rate in my agreement.",
    "An engineer missed the appointment on {day} and I took the day off work.",
    "A payment of £{amount} I made has not reached the account.",
    "Letters keep arriving in a name that is not mine.",
    "The fraud team blocked my card abroad and nobody answered the emergency number.",
    "I was given wrong information about early repayment charges.",
]
RESOLUTION_TEXTS = {
    "refund": "We will refund the amount charged in error.",
    "replacement": "We will send a replacement at no cost.",
    "corrective_action": "We have corrected the account and the records.",
    "service_adjustment": "We have adjusted the service as you asked.",
    "apology": "We are sorry; here is what went wrong and what we changed.",
    "compensation": "We will pay compensation for the inconvenience caused.",
    "no_fault": "We looked carefully and found the charges were correct.",
}
CHANNELS = ["email", "phone", "web", "in_person", "letter", "social_media"]
CHANNEL_WEIGHTS = [30, 25, 20, 10, 8, 7]
ACK_METHODS = ["email", "phone", "letter", "in_person", "social_media"]
ACK_METHOD_WEIGHTS = [50, 30, 5, 10, 5]
COMPLEXITIES = ["simple", "standard", "complex"]
COMPLEXITY_WEIGHTS = [30, 55, 15]
# Days from investigation to proposal, by complexity.
RESOLVE_DAYS = {"simple": (0.3, 3.0), "standard": (2.0, 12.0), "complex": (5.0, 30.0)}
