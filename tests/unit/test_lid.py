"""Language identification on realistic citizen questions, plus the fusion rules."""

from __future__ import annotations

import pytest

from voice_agent.language.languages import CODES
from voice_agent.language.lid import LanguageGuess, LanguageIdentifier, TextLanguageDetector

# (expected language, what a citizen says or types): colloquial, misspelt, unaccented, short.
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("pt", "como é que tiro o nif"),
    ("pt", "onde fica a loja do cidadao"),
    ("pt", "como faço pra tirar o NIF"),  # Brazilian
    ("pt", "preciso de renovar o cartão de cidadão, o que levo"),
    ("pt", "a minha autorização de residência caducou"),
    ("pt", "vc sabe se o centro de saude atende sem marcaçao"),  # Brazilian, chat spelling
    ("pt", "nao consigo entrar no portal das financas"),
    ("pt", "quero inscrever o meu filho na escola"),
    ("pt", "Boa tarde, qual é o número da linha SNS 24?"),
    ("en", "how do I get a tax number"),
    ("en", "where is the nearest citizen shop"),
    ("en", "what do i need to register at the health centre"),
    ("en", "my residence card expired, what now"),
    ("en", "can I book an appointment online"),
    ("en", "Hello, I need a NISS for my new job"),
    ("en", "how long does it take to get the residence permit"),
    ("es", "como saco el nif"),
    ("es", "dónde está la tienda del ciudadano más cercana"),
    ("es", "necesito pedir cita para el médico de familia"),
    ("es", "se me venció la residencia, qué hago"),
    ("es", "quiero inscribir a mi hija en el colegio"),
    ("es", "cuanto tarda en llegar la tarjeta de residente"),
    ("es", "¿puedo pedir el número de seguridad social por internet?"),
    ("fr", "comment obtenir un numéro fiscal"),
    ("fr", "où se trouve la boutique du citoyen"),
    ("fr", "j'ai besoin d'un rendez-vous au centre de santé"),
    ("fr", "mon titre de séjour a expiré qu'est-ce que je fais"),
    ("fr", "est-ce que je peux prendre rendez-vous en ligne"),
    ("fr", "je cherche le numero de la securite sociale"),
    ("fr", "inscrire mon enfant à l'école"),
    ("de", "wie bekomme ich eine Steuernummer"),
    ("de", "wo ist der nächste Bürgerladen"),
    ("de", "ich brauche einen Termin im Gesundheitszentrum"),
    ("de", "meine Aufenthaltserlaubnis ist abgelaufen, was jetzt"),
    ("de", "kann ich online einen Termin machen"),
    ("de", "wie lange dauert die Anmeldung bei der Sozialversicherung"),
    ("de", "brauche hilfe mit dem NIF antrag"),
    ("it", "come posso avere il codice fiscale portoghese"),
    ("it", "dove si trova il negozio del cittadino"),
    ("it", "ho bisogno di un appuntamento al centro di salute"),
    ("it", "il mio permesso di soggiorno è scaduto, che faccio"),
    ("it", "posso prenotare online"),
    ("it", "vorrei iscrivere mio figlio a scuola"),
    ("it", "quanto tempo ci vuole per la carta di residenza"),
    ("ro", "cum obtin numarul de securitate sociala"),
    ("ro", "unde este magazinul cetățeanului"),
    ("ro", "am nevoie de o programare la centrul de sanatate"),
    ("ro", "mi-a expirat permisul de ședere, ce fac"),
    ("ro", "pot să fac programare online"),
    ("ro", "vreau sa inscriu copilul la scoala"),
    ("ro", "cat dureaza sa primesc cardul de rezidenta"),
    ("pl", "jak dostać numer podatkowy"),
    ("pl", "gdzie jest najbliższy sklep obywatela"),
    ("pl", "potrzebuję wizyty w ośrodku zdrowia"),
    ("pl", "moja karta pobytu wygasła co teraz"),
    ("pl", "czy moge sie umowic przez internet"),
    ("pl", "chce zapisac dziecko do szkoly"),
    ("pl", "ile trwa wydanie karty rezydenta"),
    ("tr", "vergi numarasi nasil alinir"),
    ("tr", "en yakın vatandaş mağazası nerede"),
    ("tr", "sağlık merkezinden randevu almak istiyorum"),
    ("tr", "oturma iznimin süresi doldu ne yapmalıyım"),
    ("tr", "internetten randevu alabilir miyim"),
    ("tr", "cocugumu okula kaydettirmek istiyorum"),
    ("tr", "sosyal guvenlik numarasi icin ne lazim"),
    ("uk", "як отримати податковий номер"),
    ("uk", "де знаходиться магазин громадянина"),
    ("uk", "мені потрібно записатися до лікаря"),
    ("uk", "у мене закінчилася посвідка на проживання що робити"),
    ("uk", "чи можна записатися онлайн"),
    ("uk", "хочу записати дитину до школи"),
    ("ru", "как получить налоговый номер"),
    ("ru", "где находится магазин гражданина"),
    ("ru", "мне нужно записаться к врачу"),
    ("ru", "у меня закончился вид на жительство что делать"),
    ("ru", "можно ли записаться онлайн"),
    ("ru", "хочу записать ребенка в школу"),
    ("ar", "كيف أحصل على رقم التعريف الضريبي"),
    ("ar", "أين يقع متجر المواطن"),
    ("ar", "أحتاج إلى موعد في المركز الصحي"),
    ("ar", "انتهت صلاحية تصريح الإقامة ماذا أفعل"),
    ("ar", "هل يمكنني حجز موعد عبر الإنترنت"),
    ("ar", "اريد تسجيل ابني في المدرسة"),
    ("fa", "چطور شماره مالیاتی بگیرم"),
    ("fa", "فروشگاه شهروندی کجاست"),
    ("fa", "من برای مرکز بهداشت نوبت می‌خواهم"),
    ("fa", "اجازه اقامتم تمام شده چه کار کنم"),
    ("fa", "آیا می‌توانم آنلاین وقت بگیرم"),
    ("fa", "میخوام بچه‌ام را در مدرسه ثبت نام کنم"),
    ("ur", "میں نیف نمبر کیسے حاصل کروں"),
    ("ur", "شہری دکان کہاں ہے"),
    ("ur", "مجھے صحت مرکز میں وقت لینا ہے"),
    ("ur", "میرا رہائشی کارڈ ختم ہو گیا ہے کیا کروں"),
    ("ur", "کیا میں آن لائن وقت لے سکتا ہوں"),
    ("ur", "بچے کو اسکول میں داخل کروانا ہے"),
    ("hi", "मुझे टैक्स नंबर कैसे मिलेगा"),
    ("hi", "नागरिक दुकान कहाँ है"),
    ("hi", "मुझे स्वास्थ्य केंद्र में अपॉइंटमेंट चाहिए"),
    ("hi", "मेरा रेजिडेंस कार्ड खत्म हो गया है क्या करूँ"),
    ("hi", "क्या मैं ऑनलाइन समय ले सकता हूँ"),
    ("hi", "बच्चे का स्कूल में दाखिला कराना है"),
    ("ne", "म कसरी कर नम्बर पाउन सक्छु"),
    ("ne", "नागरिक पसल कहाँ छ"),
    ("ne", "मलाई स्वास्थ्य केन्द्रमा भेटघाटको समय चाहिन्छ"),
    ("ne", "मेरो बसोबास कार्डको म्याद सकियो के गर्ने"),
    ("ne", "के म अनलाइन समय लिन सक्छु"),
    ("ne", "छोरालाई विद्यालयमा भर्ना गर्नुपर्छ"),
    ("pa", "ਮੈਨੂੰ ਟੈਕਸ ਨੰਬਰ ਕਿਵੇਂ ਮਿਲੇਗਾ"),
    ("pa", "ਨਾਗਰਿਕ ਦੁਕਾਨ ਕਿੱਥੇ ਹੈ"),
    ("pa", "ਮੈਨੂੰ ਡਾਕਟਰ ਨਾਲ ਮਿਲਣ ਦਾ ਸਮਾਂ ਚਾਹੀਦਾ"),
    ("pa", "NIF ਲਈ ਕੀ ਕਰਨਾ ਪਵੇਗਾ"),
    ("gu", "મને ટેક્સ નંબર કેવી રીતે મળે"),
    ("gu", "નાગરિક દુકાન ક્યાં છે"),
    ("gu", "મારે ડૉક્ટરનો સમય લેવો છે"),
    ("gu", "NIF માટે શું કરવું પડે"),
    ("bn", "আমি কিভাবে ট্যাক্স নম্বর পাব"),
    ("bn", "নাগরিক দোকান কোথায়"),
    ("bn", "ডাক্তারের সাথে দেখা করার সময় চাই"),
    ("bn", "NIF এর জন্য কী করতে হবে"),
    ("zh", "我怎么申请税号"),
    ("zh", "公民商店在哪里"),
    ("zh", "我想预约看医生"),
    ("zh", "NIF怎么办理"),
    ("zh", "居留证过期了怎么办"),
)


# Typed in Latin letters, as many South Asians type their own language (rule 3); Urdu typed so
# reads as Hindi (one spoken language).
ROMANISED: tuple[tuple[str, str], ...] = (
    ("hi", "mera residence card kho gaya hai, kya karu"),
    ("hi", "NIF kaise milega yahan, kya chahiye"),
    ("hi", "mujhe doctor se milna hai, appointment kaise le"),
    ("hi", "mujhay NISS number chahiye kahan se milega"),  # as Urdu is typed
    ("pa", "mainu NISS chahida, kithon milu"),
    ("pa", "tusi dasso family doctor kiven milda"),
    ("bn", "ami kivabe NIF pabo"),
    ("bn", "amar chele ke school e bhorti korte chai, ki korbo"),
    ("ne", "malai NIF chahiyo, kasari banaune, k garne"),
    ("ne", "mero card ko myad sakiyo, aba k garne"),
    ("gu", "mare NIF kevi rite levanu"),
    ("gu", "family doctor mate shu karvu"),
)
# Latin-script questions with a word that is also romanised Hindi/Bengali ("hai", "ami")
NOT_ROMANISED: tuple[tuple[str, str], ...] = (
    ("it", "hai bisogno del codice fiscale per lavorare?"),
    ("fr", "mon ami a perdu sa carte de séjour, que faire"),
    ("tr", "ne zaman kimlik kartı alabilirim ki"),
    ("es", "mi jefe no me paga, qué hago"),
)


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier(TextLanguageDetector())


def test_every_language_has_at_least_three_questions() -> None:
    for code in CODES:
        assert sum(1 for lang, _ in QUESTIONS if lang == code) >= 3, code


@pytest.mark.parametrize(("expected", "text"), QUESTIONS)
def test_question_language(lid: LanguageIdentifier, expected: str, text: str) -> None:
    guess = lid.identify(text)
    assert guess.language == expected, (text, guess)
    assert 0.0 < guess.probability <= 1.0


@pytest.mark.parametrize(("expected", "text"), ROMANISED + NOT_ROMANISED)
def test_romanised_south_asian_languages(lid: LanguageIdentifier, expected: str, text: str) -> None:
    guess = lid.identify(text)
    assert guess.language == expected, (text, guess)
    # with a session in a Latin-script language, romanised text still switches
    assert lid.identify(text, prior="pt" if expected != "pt" else "en").language == expected


@pytest.mark.parametrize(("expected", "text"), QUESTIONS)
def test_prior_of_another_language_does_not_hide_a_clear_question(
    lid: LanguageIdentifier, expected: str, text: str
) -> None:
    other = "en" if expected == "pt" else "pt"
    assert lid.identify(text, prior=other).language == expected, text


@pytest.mark.parametrize("word", ["Olá", "ok", "Hello", "obrigado", "NIF", "sim", "yes", "नमस्ते"])
@pytest.mark.parametrize("prior", ["pt", "en", "uk"])
def test_one_word_never_flips_the_session_language(
    lid: LanguageIdentifier, word: str, prior: str
) -> None:
    guess = lid.identify(word, prior=prior)
    assert (guess.language, guess.source) == (prior, "prior")


def test_one_word_keeps_prior_even_against_audio(lid: LanguageIdentifier) -> None:
    guess = lid.identify("gracias", prior="pt", audio_probs={"es": 0.95, "pt": 0.05})
    assert (guess.language, guess.source) == ("pt", "prior")


def test_short_cjk_counts_as_one_word(lid: LanguageIdentifier) -> None:
    assert lid.identify("你好", prior="pt").language == "pt"
    assert lid.identify("我想预约看医生", prior="pt").language == "zh"


def test_one_word_without_prior_uses_evidence_with_lower_probability(
    lid: LanguageIdentifier,
) -> None:
    short = lid.identify("obrigado")
    assert short.language == "pt"
    assert short.probability < lid.identify("obrigado pela ajuda toda").probability
    hindi = lid.identify("नमस्ते")
    assert hindi.language in ("hi", "ne") and hindi.probability < 0.7
    assert lid.identify("你好").language == "zh"


def test_audio_decides_an_ambiguous_word(lid: LanguageIdentifier) -> None:
    guess = lid.identify("ok", audio_probs={"pt": 0.9, "en": 0.05, "ja": 0.05})
    assert guess.language == "pt" and guess.source == "fused"
    assert lid.identify("ok", audio_probs={"en": 0.8, "pt": 0.2}).language == "en"


def test_audio_is_restricted_to_supported_languages_and_renormalised(
    lid: LanguageIdentifier,
) -> None:
    guess = lid.identify("obrigado senhora", audio_probs={"gl": 0.7, "pt": 0.2, "es": 0.1})
    assert guess.language == "pt"
    assert "gl" not in guess.scores
    brazilian = lid.identify("preciso de ajuda", audio_probs={"pt-BR": 1.0})
    assert brazilian.language == "pt" and sum(brazilian.scores.values()) <= 1.0 + 1e-9


def test_audio_breaks_ties_inside_a_shared_script(lid: LanguageIdentifier) -> None:
    # Two words that read as Hindi or Nepali: Whisper's audio settles it.
    assert lid.identify("नागरिक पसल", audio_probs={"ne": 0.8, "hi": 0.2}).language == "ne"
    assert lid.identify("नमस्ते जी", audio_probs={"hi": 0.9, "ne": 0.1}).language == "hi"


def test_audio_cannot_pull_text_out_of_its_script(lid: LanguageIdentifier) -> None:
    guess = lid.identify("как получить налоговый номер", audio_probs={"pt": 0.9, "ru": 0.1})
    assert guess.language == "ru"


def test_prior_respected_on_ambiguous_short_text(lid: LanguageIdentifier) -> None:
    # "a casa" / "la cita" are plausible in several Romance languages.
    assert lid.identify("a casa", prior="pt").language == "pt"
    assert lid.identify("sim claro", prior="pt").language == "pt"
    assert lid.identify("la cita", prior="es").language == "es"
    assert lid.identify("ok obrigado", prior="pt").language == "pt"


def test_prior_gives_way_to_a_clear_switch(lid: LanguageIdentifier) -> None:
    guess = lid.identify("sorry, can you speak English please", prior="pt")
    assert guess.language == "en" and guess.source == "text"


def test_script_decides_outright(lid: LanguageIdentifier) -> None:
    guess = lid.identify("ਮੈਨੂੰ ਟੈਕਸ ਨੰਬਰ ਕਿਵੇਂ ਮਿਲੇਗਾ", prior="pt", audio_probs={"hi": 0.7, "pa": 0.3})
    assert (guess.language, guess.source) == ("pa", "script")


def test_brazilian_portuguese_is_pt(lid: LanguageIdentifier) -> None:
    assert lid.identify("oi, tô precisando tirar meu CPF aqui em Portugal").language == "pt"
    assert lid.identify("ok", audio_probs={"pt-BR": 0.9, "en": 0.1}).language == "pt"


@pytest.mark.parametrize(
    "text", ["", "   ", "808 24 24 24", "NIF", "SNS 24", "autenticacao.gov.pt"]
)
def test_nothing_to_judge_returns_prior_or_default(lid: LanguageIdentifier, text: str) -> None:
    assert lid.identify(text, prior="uk") == LanguageGuess("uk", 0.5, "prior", {"uk": 1.0})
    assert lid.identify(text) == LanguageGuess("pt", 0.0, "prior", {})


def test_acronyms_numbers_and_urls_are_ignored(lid: LanguageIdentifier) -> None:
    text = "how do I log in to autenticacao.gov.pt with my NIF 123456789 and call 808 24 24 24"
    assert lid.identify(text).language == "en"
    assert lid.identify("onde está o meu NISS e o NIF no IRS").language == "pt"
    assert lid.identify("SNS 24: ligar para o 808 24 24 24 ou ir ao centro").language == "pt"


@pytest.mark.parametrize(
    ("expected", "text"),
    [
        ("en", "how do I get to the Loja do Cidadão in Lisbon"),
        ("it", "come arrivo alla Loja do Cidadão"),
        ("es", "¿dónde está la Segurança Social de Porto?"),
        ("de", "ich brauche einen Termin bei den Finanças"),
        ("ru", "как попасть в Loja do Cidadão"),
        ("ur", "Loja do Cidadão کہاں ہے"),
        ("zh", "Loja do Cidadão 在哪里"),
        ("hi", "Finanças में NIF कैसे मिलेगा"),
        ("pt", "Loja do Cidadão"),
        ("pt", "preciso de renovar o cartão de cidadão"),
    ],
)
def test_portuguese_names_and_latin_words_do_not_decide(
    lid: LanguageIdentifier, expected: str, text: str
) -> None:
    assert lid.identify(text).language == expected


def test_unsupported_script_falls_back_to_audio_then_prior(lid: LanguageIdentifier) -> None:
    greek = "πώς μπορώ να πάρω ΑΦΜ"
    assert lid.identify(greek, audio_probs={"en": 0.6, "pt": 0.4}).language == "en"
    assert lid.identify(greek, prior="fr").language == "fr"
    assert lid.identify("税番号はどうやって取りますか", prior="en").language == "en"


def test_shouting_is_not_an_acronym(lid: LanguageIdentifier) -> None:
    assert lid.identify("COMO TIRO O CARTÃO DE CIDADÃO").language == "pt"


def test_text_probabilities(lid: LanguageIdentifier) -> None:
    detector = TextLanguageDetector()
    probs = detector.probabilities("quero marcar uma consulta no centro de saúde")
    assert set(probs) <= set(CODES)
    assert abs(sum(probs.values()) - 1.0) < 1e-6
    assert max(probs, key=lambda code: probs[code]) == "pt"
    assert detector.probabilities("123 ... !!") == {}


def test_deterministic(lid: LanguageIdentifier) -> None:
    other = LanguageIdentifier(TextLanguageDetector())
    for _, text in QUESTIONS[::7]:
        assert lid.identify(text) == lid.identify(text) == other.identify(text)


def test_given_language() -> None:
    assert LanguageGuess.given("pt-BR") == LanguageGuess("pt", 1.0, "given", {"pt": 1.0})
