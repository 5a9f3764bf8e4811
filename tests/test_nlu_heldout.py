"""Held-out utterances (written apart from the training data): accuracy and fallback rates."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu import DEFAULT_THRESHOLD, EmbeddedNLU, default_data_dir
from nlu.normalize import normalize
from nlu.rasa_yaml import load_dir
from tests.conftest import shared_nlu_cache

# typos, missing umlauts, emoji and indirect phrasing on purpose
HELD_OUT: dict[str, dict[str, list[str]]] = {
    "de": {
        "greet": [
            "hallo hallo 👋 ist da wer",
            "guten morgen lieber bot",
            "hey, jemand zu hause?",
            "moinsen",
            "gruess gott miteinander",
        ],
        "goodbye": [
            "tschuess dann",
            "bis spaeter mal",
            "ciao ciao",
            "ich bin dann weg, tschüss",
            "schoenen abend und tschüss",
        ],
        "thanks": [
            "danke dir vielmals",
            "dankeschoen 🙏",
            "vielen dank für die auskunft",
            "merci, hat geholfen",
            "danke, echt nett von dir",
        ],
        "help": [
            "was kann ich hier alles machen",
            "hilfe ich blick nicht durch",
            "wie funktioniert dieser chat",
            "welche sachen kannst du",
            "was geht hier so",
        ],
        "affirm": ["jaaa", "ja passt so", "ja bitte, genau so", "okay passt", "jo mach"],
        "deny": [
            "nein bloß nicht",
            "ne lass mal",
            "nö, passt nicht",
            "nein danke, brauch ich nicht",
            "nee das stimmt so nicht",
        ],
        "cancel": [
            "abbrechen bitte sofort",
            "stopp, ich will nicht mehr",
            "vergiss das einfach",
            "brich den vorgang ab",
            "ich hör hier auf",
        ],
        "change_language": [
            "kannst du bitte englisch sprechen",
            "auf englisch umschalten",
            "sprache auf deutsch stellen",
            "lieber englisch bitte",
            "bitte die sprache wechseln",
        ],
        "find_job": [
            "ich suche arbeit in der pflege in der innenstadt",
            "gibts jobs als kassiererin in hoerde",
            "mein bruder sucht was im lager",
            "suche teilzeit als erzieherin",
            "welche stellen gibt es fuer koeche",
            "offene stellen altenpflege 😊",
        ],
        "job_alert": [
            "sag mir bescheid wenn es neue pflegejobs gibt",
            "informier mich wenn neue lagerjobs reinkommen",
            "jobalarm fuer teilzeitstellen bitte",
            "benachrichtige mich bei neuen stellen als verkaeuferin",
            "schick mir neue jobs in der gastro automatisch",
        ],
        "post_job": [
            "wir suchen dringend drei pflegefachkräfte",
            "unser laden sucht eine aushilfe, wie kann ich das ausschreiben",
            "stellenanzeige für einen lageristen aufgeben",
            "wir stellen ab sofort reinigungskraefte ein",
            "ich möchte als arbeitgeber eine stelle inserieren",
        ],
        "order_voucher": [
            "ich hätte gern einen gutschein über 20 euro für die buchhandlung",
            "gutschein fuer die baeckerei kaufen",
            "kann ich einen 30€ gutschein für café rosa bestellen",
            "ich will meiner oma einen gutschein schenken",
            "gutschein kaufen fuer den fahrradladen",
        ],
        "voucher_balance": [
            "wie viel guthaben ist noch auf dem gutschein drauf",
            "guthaben von gutschein K7QF-2M9X",
            "wieviel geld ist noch drauf",
            "restguthaben checken bitte",
            "ist mein gutschein schon leer",
        ],
        "redeem_voucher": [
            "bitte gutschein 7QFK-M29X über 12,50 einlösen",
            "kunde zahlt mit gutschein, 15 euro abziehen",
            "bitte 9,90 vom gutschein abbuchen",
            "ich will einen kundengutschein einloesen",
            "gutschein 4HJK-8MNP einlösen",
        ],
        "request_ppe": [
            "wir bräuchten 300 ffp2 masken für das ordnungsamt",
            "bitte zehn kartons handschuhe fürs gesundheitsamt",
            "schutzausruestung fuer unsere abteilung anfordern",
            "wir brauchen nachschub an desinfektionsmittel",
            "ich moechte 50 schutzkittel bestellen",
        ],
        "ppe_status": [
            "was ist eigentlich mit unserer maskenbestellung",
            "wann kommen endlich unsere handschuhe",
            "ist meine psa anforderung schon genehmigt",
            "status von meiner bestellung bitte",
            "wurde unsere maskenbestellung schon verschickt",
        ],
        "list_parent_evenings": [
            "welche elternabende sind denn nächste woche",
            "wann ist der naechste elternabend in der 3b",
            "gibt es demnaechst elternabende",
            "zeig mir alle elternabende",
            "termine für elternabende am goethe gymnasium",
        ],
        "join_parent_evening": [
            "ich möchte gern beim elternabend der 2a mitmachen",
            "bitte melde mich für den elternabend an",
            "ich will zum elternabend am donnerstag kommen",
            "anmeldung zum elternabend bitte",
            "trag mich fuer den elternabend ein",
        ],
        "cancel_parent_evening": [
            "ich kann leider doch nicht zum elternabend",
            "bitte vom elternabend abmelden",
            "ich muss den elternabend absagen",
            "meine anmeldung für den elternabend stornieren",
            "ich schaff den elternabend leider nicht",
        ],
        "my_appointments": [
            "was hab ich so für termine",
            "zeig mir meine termine bitte",
            "welche termine hab ich naechste woche",
            "wofuer bin ich angemeldet",
            "meine termine und erinnerungen",
        ],
        "shop_info": [
            "hat die baeckerei mueller heute noch offen",
            "wann hat der blumenladen geoeffnet",
            "liefert die apotheke auch nach hause",
            "bis wann hat café rosa auf",
            "oeffnungszeiten buchhandlung",
        ],
        "subscribe_shop": [
            "ich will die neuigkeiten vom blumenladen abonnieren",
            "café rosa abonnieren bitte",
            "ich möchte der bäckerei folgen",
            "schick mir updates vom fahrradladen",
            "ich will benachrichtigungen vom buchladen bekommen",
        ],
        "unsubscribe_shop": [
            "bitte keine nachrichten mehr vom blumenladen schicken",
            "ich will café rosa nicht mehr folgen",
            "abo von der baeckerei beenden",
            "bitte keine updates mehr vom buchladen",
            "vom fahrradladen abmelden",
        ],
        "broadcast_update": [
            "an alle: ab montag haben wir wieder geöffnet",
            "nachricht an alle meine abonnenten schicken",
            "an alle kunden: wir haben wieder geöffnet",
            "ich möchte meinen followern ein update schicken",
            "info an alle abonnenten verschicken",
        ],
        "export_my_data": [
            "welche daten habt ihr eigentlich über mich gespeichert",
            "ich will meine gespeicherten daten sehen",
            "dsgvo auskunft bitte",
            "exportier mal meine daten",
            "was speichert ihr alles über mich",
        ],
        "delete_my_data": [
            "löscht bitte alle daten von mir",
            "bitte loescht mein konto",
            "ich will dass ihr meine daten löscht",
            "account loeschen bitte",
            "entfernt bitte alles über mich",
        ],
    },
    "en": {
        "greet": [
            "hi hi",
            "hi there 👋",
            "hello, anyone around?",
            "good morning bot",
            "heyy hello there",
        ],
        "goodbye": [
            "alright bye then",
            "see you later then",
            "ok goodbye",
            "i'm off now, bye",
            "have a nice evening, bye",
        ],
        "thanks": [
            "thanks a lot mate",
            "thank you so much 🙏",
            "thanks for the info",
            "cheers, that helped",
            "thank you, very kind",
        ],
        "help": [
            "so what can you do",
            "help, i am totally confused",
            "how does this whole chat work",
            "what things can you do for me",
            "what can i use this for",
        ],
        "affirm": [
            "yes please, that's it",
            "yeah that's fine",
            "yes exactly that",
            "sure, go ahead",
            "yep do it",
        ],
        "deny": [
            "no no",
            "nah leave it",
            "no that isn't right",
            "no thanks, not needed",
            "nope, wrong",
        ],
        "cancel": [
            "stop this now",
            "cancel right now",
            "forget about it please",
            "abort the process",
            "i want to quit this",
        ],
        "change_language": [
            "could you speak english please",
            "switch the bot to english",
            "set the language to german",
            "german please, thanks",
            "please change the language",
        ],
        "find_job": [
            "any nurse jobs in the centre?",
            "any part-time warehouse jobs?",
            "my brother needs a job in a warehouse",
            "looking for part time work as a teacher",
            "what positions are there for cooks",
            "open jobs in elderly care 😊",
        ],
        "job_alert": [
            "alert me about new logistics jobs",
            "notify me when new nursing jobs come in",
            "job alert for part-time positions please",
            "let me know about new cashier jobs",
            "send me new hospitality jobs automatically",
        ],
        "post_job": [
            "i want to post a job ad for my company",
            "our shop needs a temp, how can i advertise",
            "post a job ad for a warehouse worker",
            "we are hiring cleaners starting now",
            "as an employer i want to list a vacancy",
        ],
        "order_voucher": [
            "buy a 40€ voucher for café rosa",
            "i'd like to buy a voucher for the local bakery",
            "can i order a 30 euro voucher for the bookshop",
            "i want to give my grandma a voucher",
            "buy a gift voucher for the bike shop",
        ],
        "voucher_balance": [
            "check the balance of voucher 7QFK-M29X",
            "how much is still left on the voucher",
            "how much money is still on it",
            "check my remaining balance please",
            "is my voucher empty already",
        ],
        "redeem_voucher": [
            "redeem 12 euros from code 7QFK-M29X",
            "customer pays with a voucher, deduct 15 euros",
            "please take 9.90 off the voucher",
            "i need to redeem a voucher from a customer",
            "redeem voucher 4HJK-8MNP",
        ],
        "request_ppe": [
            "request 8 boxes of gloves for the library",
            "we need 200 ffp2 masks for the health office",
            "request protective equipment for our department",
            "we need more disinfectant",
            "i'd like to order 50 gowns",
        ],
        "ppe_status": [
            "what's the status of our ppe request",
            "when will our gloves finally arrive",
            "has my ppe request been approved",
            "status of my order please",
            "was our mask order shipped yet",
        ],
        "list_parent_evenings": [
            "list the parent evenings at goethe school",
            "when is the next parent evening for 3b",
            "are there parent evenings coming up soon",
            "show me all parent evenings",
            "any parent evenings next week?",
        ],
        "join_parent_evening": [
            "sign me up for the parent evening on friday",
            "please register me for the parent evening",
            "i want to come to the parent evening on thursday",
            "registration for the parent evening please",
            "put me on the list for the parent evening",
        ],
        "cancel_parent_evening": [
            "cancel my registration for the parent evening",
            "unregister me from the parent evening please",
            "i have to cancel the parent evening",
            "i can't make the parent evening after all",
            "remove my parent evening registration",
        ],
        "my_appointments": [
            "show all my appointments",
            "what appointments do i have coming up",
            "which appointments do i have next week",
            "what am i signed up for",
            "my appointments and reminders",
        ],
        "shop_info": [
            "does the bicycle shop deliver?",
            "is baeckerei mueller open right now",
            "when is the flower shop open",
            "until when is café rosa open",
            "bookshop opening hours",
        ],
        "subscribe_shop": [
            "i want to follow café rosa",
            "i want the news from the flower shop",
            "i'd like to follow the bakery",
            "send me updates from the bike shop",
            "subscribe me to the bookshop",
        ],
        "unsubscribe_shop": [
            "please unfollow the bookshop",
            "i don't want to follow cafe rosa any longer",
            "end my subscription to the bakery",
            "no more updates from the bike shop please",
            "unsubscribe me from the flower shop",
        ],
        "broadcast_update": [
            "announce to my followers that we open late on friday",
            "send a message to all my subscribers",
            "to all customers: we are open again",
            "i want to send my followers an update",
            "send info to all subscribers",
        ],
        "export_my_data": [
            "export all my data please",
            "i want to see my stored data",
            "gdpr access request please",
            "what do you store about me",
            "give me a copy of all my data",
        ],
        "delete_my_data": [
            "delete my whole account",
            "please delete all of my data",
            "i want you to delete my data",
            "remove my user profile please",
            "erase everything about me",
        ],
    },
}

# harder: indirect, colloquial, code-switched
HELD_OUT_HARD: dict[str, dict[str, list[str]]] = {
    "de": {
        "greet": ["na du, alles fit?", "servus miteinander"],
        "goodbye": ["danke und ciao", "so, ich mach mich vom acker"],
        "thanks": ["super lieb von dir, danke", "dankeee"],
        "help": ["ich bin neu hier, was geht mit dem bot", "wozu ist der chat gut"],
        "affirm": ["jep genau", "ja das ist korrekt so"],
        "deny": ["nein das war falsch", "nee nicht wirklich"],
        "cancel": ["lass das jetzt, abbrechen", "stop, nicht weiter"],
        "change_language": [
            "english please, i dont speak german",
            "koennen wir auf englisch schreiben",
        ],
        "find_job": [
            "hab gehört ihr vermittelt jobs, ich such was als putzfrau",
            "mein nachbar will im handwerk anfangen, gibts da was",
        ],
        "job_alert": [
            "ich will immer bescheid bekommen wenn neue kitajobs reinkommen",
            "kann ich mich für neue stellen als koch benachrichtigen lassen",
        ],
        "post_job": [
            "meine kneipe braucht eine neue bedienung",
            "ich hab einen handwerksbetrieb und suche gesellen",
        ],
        "order_voucher": [
            "gibt es gutscheine fuer den buchladen zu kaufen",
            "ich will einen 15 euro gutschein fuer meinen kollegen",
        ],
        "voucher_balance": [
            "ist auf dem gutschein H4TR-9WZP noch geld",
            "restwert von meinem gutschein bitte",
        ],
        "redeem_voucher": [
            "kundin will 18 euro mit ihrem gutschein bezahlen",
            "gutschein beim kassieren einloesen",
        ],
        "request_ppe": [
            "unsere station braucht dringend mehr kittel",
            "bitte 40 visiere fürs bürgerbüro anfordern",
        ],
        "ppe_status": [
            "sind die bestellten schutzbrillen schon raus",
            "hat jemand unsere psa anfrage bearbeitet",
        ],
        "list_parent_evenings": [
            "gibts im maerz elternabende",
            "wann sind die elternabende der grundschule am park",
        ],
        "join_parent_evening": [
            "ich will beim elternabend der 7c mitmachen",
            "kann ich mich für den elternabend am montag eintragen",
        ],
        "cancel_parent_evening": [
            "ich muss mich leider vom elternabend wieder abmelden",
            "bin krank, streich mich vom elternabend",
        ],
        "my_appointments": [
            "welche termine hab ich eigentlich gebucht",
            "zeig mir meine anstehenden termine",
        ],
        "shop_info": ["hat der radladen samstag offen", "liefert die buchhandlung auch"],
        "subscribe_shop": [
            "ich moechte dem café folgen",
            "halt mich bei der baeckerei mueller auf dem laufenden",
        ],
        "unsubscribe_shop": [
            "ich moechte café rosa entfolgen",
            "schluss mit den nachrichten vom radladen",
        ],
        "broadcast_update": [
            "an alle follower: heute nur bis 14 uhr offen",
            "schick meinen abonnenten dass wir jetzt liefern",
        ],
        "export_my_data": [
            "ich moechte wissen welche infos ihr ueber mich habt",
            "kopie aller meiner daten bitte",
        ],
        "delete_my_data": [
            "bitte loescht alles was ihr ueber mich gespeichert habt",
            "ich will mein profil komplett entfernen",
        ],
    },
    "en": {
        "greet": ["hey there, anyone home", "good evening to you"],
        "goodbye": ["thanks and goodbye", "gotta run, bye"],
        "thanks": ["super kind of you, thanks", "thankss"],
        "help": ["i'm new here, what does this bot do", "what is this chat good for"],
        "affirm": ["yep exactly", "yes that's correct"],
        "deny": ["no that was wrong", "nah not really"],
        "cancel": ["leave it, cancel", "stop, don't go on"],
        "change_language": ["deutsch bitte, ich spreche kein englisch", "can we write in german"],
        "find_job": [
            "i heard you help with jobs, i'm looking for cleaning work",
            "my neighbour wants to start in the trades, anything there",
        ],
        "job_alert": [
            "i always want to hear when new daycare jobs come in",
            "can i get notified about new jobs as a cook",
        ],
        "post_job": ["my pub needs a new waitress", "i run a crafts business and need workers"],
        "order_voucher": [
            "can i buy vouchers for the bookshop",
            "i want a 15 euro voucher for my colleague",
        ],
        "voucher_balance": [
            "is there still money on voucher H4TR-9WZP",
            "remaining value of my voucher please",
        ],
        "redeem_voucher": [
            "customer wants to pay 18 euros with her voucher",
            "redeem a voucher at the till",
        ],
        "request_ppe": [
            "our ward urgently needs more gowns",
            "please request 40 visors for the citizens office",
        ],
        "ppe_status": [
            "have the goggles we ordered been sent",
            "has anyone processed our ppe request",
        ],
        "list_parent_evenings": [
            "any parent evenings in march",
            "when are the parent evenings at grundschule am park",
        ],
        "join_parent_evening": [
            "i want to take part in the 7c parent evening",
            "can i sign up for the parent evening on monday",
        ],
        "cancel_parent_evening": [
            "i need to unregister from the parent evening, sorry",
            "i'm ill, take me off the parent evening",
        ],
        "my_appointments": [
            "which appointments have i actually booked",
            "show my upcoming appointments",
        ],
        "shop_info": ["is the bike shop open on saturday", "does the bookshop deliver as well"],
        "subscribe_shop": ["i want to follow the cafe", "keep me up to date on bäckerei müller"],
        "unsubscribe_shop": ["i want to unfollow café rosa", "enough messages from the bike shop"],
        "broadcast_update": [
            "to all followers: only open until 2 pm today",
            "tell my subscribers that we deliver now",
        ],
        "export_my_data": [
            "i'd like to know what info you have on me",
            "copy of all my data please",
        ],
        "delete_my_data": [
            "please delete everything you stored about me",
            "i want my profile removed completely",
        ],
    },
}

OUT_OF_SCOPE: dict[str, list[str]] = {
    "de": [
        "scheint morgen die sonne",
        "wie viel grad sind es heute",
        "wann muss ich die grundsteuer zahlen",
        "wer hat das derby gewonnen",
        "wie mache ich einen käsekuchen",
        "was ist dein lieblingsfilm",
        "du bist ein blöder roboter",
        "gurkensalat",
        "wo kann ich mein auto anmelden",
        "wie viele kalorien hat eine banane",
        "erzähl mir eine geschichte",
        "wer war der erste mensch auf dem mond",
        "ich habe kopfschmerzen",
        "welche partei soll ich wählen",
        "wie spät ist es in new york",
    ],
    "en": [
        "will it snow tomorrow",
        "what's the temperature today",
        "when do i have to pay property tax",
        "who won the derby",
        "how do i make a cheesecake",
        "what's your favourite movie",
        "you are a stupid robot",
        "cucumber salad",
        "where do i register my car",
        "how many calories are in a banana",
        "tell me a story",
        "who was the first man on the moon",
        "i have a headache",
        "which party should i vote for",
        "what time is it in new york",
    ],
}


MIN_ACCURACY = 0.9
MIN_FALLBACK_RATIO = 0.8


@pytest.fixture(scope="module")
def nlu(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedNLU:
    cache = shared_nlu_cache(tmp_path_factory)
    return EmbeddedNLU.from_data(default_data_dir(), threshold=DEFAULT_THRESHOLD, cache_dir=cache)


def _cases() -> list[tuple[str, str, str]]:
    return [
        (lang, intent, text)
        for held_out in (HELD_OUT, HELD_OUT_HARD)
        for lang, intents in held_out.items()
        for intent, texts in intents.items()
        for text in texts
    ]


def test_held_out_set_is_not_in_the_training_data():
    training = {normalize(ex.text) for ex in load_dir(default_data_dir()).examples}
    copied = [text for _, _, text in _cases() if normalize(text) in training]
    copied += [
        text for texts in OUT_OF_SCOPE.values() for text in texts if normalize(text) in training
    ]
    assert copied == []


def test_held_out_set_covers_every_intent_in_both_languages():
    intents = set(load_dir(default_data_dir()).intents) - {"out_of_scope"}
    for lang in ("de", "en"):
        assert set(HELD_OUT[lang]) == intents
        assert all(len(texts) >= 4 for texts in HELD_OUT[lang].values())


def test_held_out_accuracy_is_at_least_ninety_percent(nlu: EmbeddedNLU):
    cases = _cases()
    misses = [(intent, text, nlu.parse_sync(text)["intent"]["name"]) for _, intent, text in cases]
    misses = [m for m in misses if m[0] != m[2]]
    accuracy = 1 - len(misses) / len(cases)
    assert accuracy >= MIN_ACCURACY, misses


@pytest.mark.parametrize("lang", ["de", "en"])
def test_held_out_accuracy_per_language(nlu: EmbeddedNLU, lang: str):
    cases = [(intent, text) for lg, intent, text in _cases() if lg == lang]
    right = sum(nlu.parse_sync(text)["intent"]["name"] == intent for intent, text in cases)
    assert right / len(cases) >= MIN_ACCURACY


@pytest.mark.parametrize("lang", ["de", "en"])
def test_out_of_scope_messages_fall_back(nlu: EmbeddedNLU, lang: str):
    results = {text: nlu.parse_sync(text)["intent"] for text in OUT_OF_SCOPE[lang]}
    fallbacks = [text for text, intent in results.items() if intent["name"] == "nlu_fallback"]
    assert len(fallbacks) / len(results) >= MIN_FALLBACK_RATIO, results


@pytest.mark.parametrize("lang", ["de", "en"])
def test_language_is_detected_for_held_out_messages(nlu: EmbeddedNLU, lang: str):
    texts = [text for lg, _, text in _cases() if lg == lang and len(text.split()) >= 3]
    detected = [nlu.parse_sync(text)["language"] for text in texts]
    assert detected.count(lang) / len(texts) >= 0.9


def test_typos_and_missing_umlauts_keep_the_intent(nlu: EmbeddedNLU):
    pairs = {
        "ich suhce arbeit in der plfege": "find_job",
        "gutshcein kaufen fuer die baeckerei": "order_voucher",
        "wie viel guthabn hab ich noch": "voucher_balance",
        "elternabnd absagen bitte": "cancel_parent_evening",
        "lösch meine dten": "delete_my_data",
        "looking for a jbo as a nurse": "find_job",
        "cancle my parent evening registraton": "cancel_parent_evening",
        "unsubscrbe from the bakery": "unsubscribe_shop",
    }
    got = {text: nlu.parse_sync(text)["intent"]["name"] for text in pairs}
    assert sum(got[t] == i for t, i in pairs.items()) >= len(pairs) - 1, got


def test_training_data_dir_is_packaged():
    assert default_data_dir() == Path(__file__).resolve().parent.parent / "nlu" / "data"
