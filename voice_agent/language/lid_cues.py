"""Cue tables for text language identification: letters, words and endings that tell
sibling languages of one script apart (see `lid.py` for how they are fused)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(text: str) -> tuple[str, ...]:
    return tuple(phrase.strip() for phrase in text.split("|"))


SCRIPT_LANGUAGES: Mapping[str, tuple[str, ...]] = {
    "latin": ("pt", "en", "es", "fr", "de", "it", "ro", "pl", "tr"),
    "cyrillic": ("uk", "ru"),
    "arabic": ("ar", "fa", "ur"),
    "devanagari": ("hi", "ne"),
    "bengali": ("bn",),
    "gurmukhi": ("pa",),
    "gujarati": ("gu",),
    "han": ("zh",),
    # not a script of its own: Latin letters typed for these languages (`romanised_scores`)
    "romanised": ("hi", "pa", "bn", "ne", "gu"),
}
ROMANISED = SCRIPT_LANGUAGES["romanised"]
# (first, last, script). Letters outside these ranges belong to an unsupported script.
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"),
    (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x08FF, "arabic"),
    (0xFB50, 0xFEFF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bengali"),
    (0x0A00, 0x0A7F, "gurmukhi"),
    (0x0A80, 0x0AFF, "gujarati"),
    (0x3040, 0x30FF, "kana"),
    (0x31F0, 0x31FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xF900, 0xFAFF, "han"),
    (0x20000, 0x2FFFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
)


def _script_of(ch: str) -> str:
    point = ord(ch)
    for first, last, script in _SCRIPT_RANGES:
        if first <= point <= last:
            return script
    return "other"


# ---------------------------------------------------------------------------------------------
# Cues: evidence a sibling language of the same script does not give. Each hit adds its weight
# (in nats) to a language's log-score. A word listed under several languages helps each of them
# against the rest. Latin words also match without accents ("nao", "numarul", "nasil").


WORD_CUES: Mapping[str, frozenset[str]] = {
    "pt": _words(
        "não sim como onde preciso precisava precisa você vocês o os um uma uns umas e é do "
        "da dos das na nas nos ao aos à às pelo pela pelos pelas para pra pro com que quero "
        "queria tenho tem têm posso pode podem devo deve faço faz fazer tirar tiro obter pedir "
        "marcar qual quais quanto quanta quando isso isto esse essa este esta meu minha meus "
        "minhas seu sua também já agora aqui há até ou ele ela eu estou está estão sou ser foi "
        "vou vai fica ficar obrigado obrigada olá bom boa dia tarde então mas mais porque sem "
        "depois ainda muito consigo dá dar ter ir de custa ja ha tô tá cadê vc vcs né oi"
        " por favor ligue aceda dirija consulte contacte"
    ),
    "es": _words(
        "cómo dónde donde necesito necesita el los las del al un una unos unas es son está "
        "están estoy en por para que qué quiero quisiera puedo puede tengo tiene hago hace "
        "hacer saco sacar conseguir obtener mi mis su sus cuál cuáles cuánto cuándo hay muy "
        "también yo lo le la sí si hola gracias buenos buenas días dia y pero con sin más este "
        "esta eso esto usted ahora aquí ya hasta desde después ayuda cita de ir dar ser como "
        "mas aqui porque cosa"
        " muchas favor llame acceda diríjase consulte"
    ),
    "it": _words(
        "come dove il lo la gli le di del dello della dei degli delle nel nella nei al allo "
        "alla ai alle dal dalla sul sulla per con che e è sono ho hai ha abbiamo hanno vorrei "
        "voglio devo deve posso può puoi fare avere essere un uno una mio mia mi ci si non "
        "cosa quale quali quanto quando anche sì grazie ciao buongiorno salve perché più già "
        "ancora questo questa quello io serve bisogno da mai l c i"
        " mille favore chiami acceda rivolga consulti signora"
    ),
    "fr": _words(
        "comment où je j tu il elle nous vous est ce c ça qu que qui quoi quel quelle quels le "
        "la les l des du de d un une pour avec dans sur mon ma mes votre vos faut faire obtenir "
        "avoir être suis sont ai avez peux peut pouvez dois doit veux voudrais besoin bonjour "
        "merci oui non pas ne n y en au aux combien quand aussi très déjà cette ces chez si ou"
        " bonsoir beaucoup madame monsieur appelez allez consultez"
    ),
    "en": _words(
        "how where the what my i do does can could is are am was to of for an get need want "
        "which when why who your you it this that with from on at please hi hello yes thanks "
        "thank there have has be will would should and or not about im dont cant u"
        " good morning sorry call visit contact check"
    ),
    "de": _words(
        "wie wo ich der die das den dem des ein eine einen einem einer ist sind bin habe hat "
        "haben kann können muss müssen möchte brauche für mit und auf bei von zu zum zur nicht "
        "kein keine was welche welcher wann warum wer mein meine meinen mir mich sie er wir es "
        "gibt hallo danke ja nein bitte auch noch schon bekomme bekommen beantragen machen "
        "finde um am an im"
        " guten tag morgen abend vielen rufen gehen sie"
    ),
    "ro": _words(
        "cum unde pot poate și şi si să că de la pe cu din pentru care ce este e sunt am ai "
        "are vreau trebuie un o al ale mea meu mei nu da mulțumesc mulţumesc bună ziua salut "
        "obțin obţin fac face fi aș putea unui unei acest această acum aici când cât cine mai "
        "dacă despre prin fără nevoie vă rog îmi sau"
        " mulțumesc frumos sunați accesați"
    ),
    "pl": _words(
        "jak gdzie czy jest są się nie na do w z ze i to mam ma moje mój moja mogę może muszę "
        "chcę potrzebuję dla jaki jaka jakie co że ale od po przez proszę dzień dobry dziękuję "
        "tak uzyskać otrzymać zrobić załatwić kiedy ile dlaczego który która które ja mnie mi "
        "sie u"
        " bardzo zadzwoń proszę"
    ),
    "tr": _words(
        "nasıl nerede nedir ne neden nereden nereye hangi kim kaç bir ve veya bu şu için mi mı "
        "mu mü var yok ben benim bana beni sen siz sizin lazım gerekiyor gerek istiyorum almak "
        "alabilirim alınır yapılır merhaba teşekkürler teşekkür evet hayır ile gibi kadar da de "
        "ki çok daha sonra önce şimdi nerde"
        " iyi günler arayın lütfen"
    ),
    "uk": _words(
        "як де що мені мене потрібно треба можна отримати і й та це чи мій моя мою будь ласка "
        "привіт дякую ні скільки коли чому маю є від із який яка яке які зробити оформити "
        "потрібен де знайти хочу"
    ),
    "ru": _words(
        "как где что мне меня нужно надо можно получить и это или мой моя мою пожалуйста "
        "привет спасибо нет да сколько когда почему есть от из какой какая какое какие сделать "
        "оформить нужен найти хочу"
    ),
    "ar": _words(
        "كيف أين اين ما ماذا هل هو هي في على من إلى الى أن ان أريد اريد أحتاج احتاج ممكن لي "
        "عن مع هذا هذه التي الذي كم متى لماذا يمكنني رقم"
        " شكرا جزيلا من فضلك"
    ),
    "fa": _words(
        "است چطور چطوری چگونه کجا من را می به از برای این آن که با یک چه چی هست نیست کنم "
        "بگیرم میخواهم می‌خواهم میخوام باید شماره کنید میشه شود دارم هستم ما"
        " ممنون مرسی خیلی لطفا"
    ),
    "ur": _words(
        "میں ہے ہیں کیسے کیا کا کی کے کو سے نے کہاں مجھے چاہیے لیے کروں اور یہ وہ ہوں کر "
        "سکتا سکتی ہو گا گی گے پر بھی"
    ),
    "hi": _words(
        "है हैं मैं मेरा मेरी मेरे मुझे कैसे क्या करें करना करूँ करूं का की से में चाहिए सकता "
        "सकती सकते होगा होगी मिलेगा मिलेगी और यह वह आप आपका नहीं हूँ हूं कौन कितना कब क्यों "
        "किस कोई भी पर था थी गया लिए बताइए बताएं लेना के"
        " धन्यवाद जी कृपया"
    ),
    "ne": _words(
        "छ छन् छु छौ छैन गर्न गर्नु गर्नुहोस् गर्ने गरेर मेरो तपाईं तपाई तपाईँ कसरी पाउन पाउने "
        "भने हुन्छ सक्छु सक्छ सकिन्छ मलाई मा पनि र कुन कति हुन पर्छ चाहिन्छ बनाउन लिन म "
        "हामी हाम्रो यो त्यो गर्छ भयो हो के तर"
        " धन्यवाद कृपया हजुर"
    ),
}

# Romanised South Asian typing ("mera card kho gaya, kya karu"): common words of Hindi/Urdu,
# Punjabi, Bengali, Nepali or Gujarati typed in Latin letters. A few are also words of the
# Latin-script languages above ("hai", "ki"): a text needs more of these than of those.
# Hindi and Urdu are one spoken language; romanised, it is taken as hi.
ROMANISED_CUES: Mapping[str, frozenset[str]] = {
    "hi": _words(
        "hai hain hy kaise kaisay kaisa kaisi kya kyaa kia kahan kahaan kaha mera meri mujhe "
        "mujhay mujhko nahi nahin nai karna karni karu karun karoon karen karein karwana "
        "karwaye karwani banwaye banwana banega chahiye chaiye chahie kitna kitne kitni "
        "milega milegi milay milta milti hoga hogi raha rahi rahe wala wali wale yaha yahan "
        "kab kyun kyon kaun kuch bhai apna apni apne hum humko tum aap aapka batao bataye "
        "bataiye liye sakta sakti sakte dena lena jana jaana gaya gayi paisa paise kaam naukri "
        "malik ghar ki abhi"
    ),
    "pa": _words(
        "kithon kithe kiven kive kinne kinna kinni milda mildi milde milu painda paindi pendi "
        "hundi hunda banda bandi dinda dinde dende ditta ditti karan karaan kariye ithe ithon "
        "tuhanu mainu menu sanu saade tusi asin chahida chaida kamm navan navi kholni bulaune "
        "wala wale wali apni ghar hun dasso daso lagde lagda kol naal ji karna nahi ki mahine "
        "tankhah"
    ),
    "bn": _words(
        "ami amar amake amader apnar tumi tomar korbo kori korte korben koren hobe hoy hoye "
        "ekhon kivabe kibhabe kothay kothai jabe jabo theke geche gese jonno lagbe lage dile "
        "dey bolche kono keno kemon koto pabo ache achhe ekhane shathe sathe bhalo dorkar bou "
        "bacchader bacchar chakri taka naki nai mash dhore beton dekhate khulte ki"
    ),
    "ne": _words(
        "mero garne garnu garda gareko kasari chha chhu chhan paincha milchha milcha hunchha "
        "huncha parchha malai tapai tapain hajur sikna kholna bharne bharna paune dinchhu "
        "bhanchha chahinchha chahiyo barsa afnai aafai haraayo kaha bata lai chaina chalcha "
        "bhane dekhi didaina paako banaune bolauna"
    ),
    "gu": _words(
        "chhe shu kevi rite nathi levanu karvu karvanu mara maru tamaru thay thashe joie "
        "joiye kyan kyare ane saari bhade kadhavay kem malse khatu kholva thi aapyo mate"
    ),
}
_MIN_ROMANISED_WORDS = 2


def romanised_scores(tokens: list[str]) -> dict[str, float]:
    """For Latin-script ``tokens``: the romanised South Asian languages whose cue words
    outnumber (at least 2) the words of any Latin-script language, with their counts (a word
    several of them use counts for each, as 1 / how many use it); {} when the text reads as
    a Latin-script language."""
    folded = [_fold(token) for token in tokens]
    latin = max(sum(t in words for t in folded) for words in _FOLDED_WORD_CUES.values())
    hits = dict.fromkeys(ROMANISED_CUES, 0.0)
    for t in folded:
        users = [lang for lang, words in ROMANISED_CUES.items() if t in words]
        for lang in users:
            hits[lang] += 1.0 / len(users)
    best = max(hits.values())
    if best < _MIN_ROMANISED_WORDS or best <= latin:
        return {}
    return {lang: n for lang, n in hits.items() if n > 0}


# "needles : language=weight ...": letters and letter groups of the lowercased text, each
# counted at most three times. Letters only one supported language writes weigh most.
_CHAR_CUE_TABLE = """
ã õ : pt=3
ão : pt=2
nh lh : pt=1
ç : pt=1 fr=1 tr=1
ê ô : pt=1 fr=1
â : pt=1 fr=1 ro=1
ñ ¿ ¡ : es=3
ción : es=2
ß : de=3
ä : de=2
ö ü : de=1 tr=1
sch : de=1
ă ș ț ţ : ro=3
ş : ro=1 tr=1.5
î : ro=2 fr=1
ą ę ł ś ź ż ć ń : pl=3
sz cz rz : pl=1
ı ğ \u0307 : tr=3
iyor ıyor uyor : tr=2
œ : fr=3
û : fr=2
è ù : fr=1 it=1
ë ï eau : fr=1
ò ì zione : it=2
gli : it=1
th : en=1
і : uk=4
ї є ґ : uk=6
ы э ъ ё : ru=6
ٹ ڈ ڑ ں ے ۓ ھ ہ : ur=6
پ چ ژ گ : fa=1.5 ur=1.5
ی ک : fa=1 ur=1
ة إ : ar=3
ى أ ؤ : ar=2
ي ك : ar=1.5
ئ : ar=0.5
"""


def _parse_char_cues(table: str) -> tuple[tuple[str, Mapping[str, float]], ...]:
    cues: list[tuple[str, Mapping[str, float]]] = []
    for line in table.strip().splitlines():
        needles, weights = line.split(" : ")
        parsed = {lang: float(w) for lang, w in (item.split("=") for item in weights.split())}
        cues.extend((needle, parsed) for needle in needles.split())
    return tuple(cues)


# ("İ".lower() is "i" + U+0307, hence the combining dot as a Turkish cue.)
CHAR_CUES: tuple[tuple[str, Mapping[str, float]], ...] = _parse_char_cues(_CHAR_CUE_TABLE)

# (whole-token pattern, weights); each counted at most three times.
TOKEN_CUES: tuple[tuple[re.Pattern[str], Mapping[str, float]], ...] = (
    (re.compile(r"ال..+"), {"ar": 1.0}),
    (re.compile("می\u200c.+"), {"fa": 2.0}),
    (re.compile(r".+(?:छ|छु|छन्|छौं|न्छ|नुहोस्|लाई|एको|ेको|ेर|एन)"), {"ne": 1.0}),
    (re.compile(r".+(?:ेगा|ेगी|ेंगे|ूँगा|ूंगा|ाएं|ाइए)"), {"hi": 1.0}),
    (re.compile(r".+(?:mak|mek|mız|miz|nız|niz)"), {"tr": 1.0}),
    (re.compile(r".+(?:ului|ulu)"), {"ro": 1.0}),
    (re.compile(r".+(?:cao|coes|cão|ções)"), {"pt": 2.0}),
    (re.compile(r".+(?:ти|тися)"), {"uk": 1.0}),
    (re.compile(r".+(?:ть|ться)"), {"ru": 1.0}),
    (re.compile(r".+ung(?:en)?"), {"de": 1.0}),
)
# (letters, language, nats per word, cap): a language that writes one of these letters in
# nearly every sentence is unlikely when several words go by without any (Urdu: ے ہ ں ...).
ABSENCE_CUES: tuple[tuple[str, str, float, float], ...] = (("ٹڈڑںےۓھہ", "ur", 1.0, 4.0),)
_MAX_CUE_HITS = 3
_FOLD = str.maketrans({"ı": "i", "ł": "l", "ß": "ss"})


def _fold(word: str) -> str:
    """ASCII-ish form for accent-blind matching: "não" → "nao", "nasıl" → "nasil"."""
    decomposed = unicodedata.normalize("NFD", word.translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_NO_WORDS: frozenset[str] = frozenset()
# A word only one language uses is strong evidence; one shared by several, weak.
_WORD_WEIGHT_BY_SHARING: tuple[float, ...] = (0.0, 3.0, 1.0)
_SHARED_WORD_WEIGHT = 0.5
_FOLDED_WORD_CUES: Mapping[str, frozenset[str]] = {
    lang: frozenset(_fold(word) for word in words if len(word) > 1)
    for lang, words in WORD_CUES.items()
    if lang in SCRIPT_LANGUAGES["latin"]
}


def cue_scores(text: str, tokens: list[str], candidates: Iterable[str]) -> dict[str, float]:
    """Summed cue weights (nats) per candidate for lowercased ``text`` and its ``tokens``."""
    scores = {lang: 0.0 for lang in candidates}
    for token in tokens:
        latin = len(token) > 1 and _script_of(token[0]) == "latin"
        folded = _fold(token) if latin else ""
        # An accented form decides by itself ("qué" is Spanish); unaccented typing falls back
        # to accent-blind matching ("nao" → "não").
        users = [lang for lang, words in WORD_CUES.items() if token in words]
        if not users and latin:
            users = [lang for lang, words in _FOLDED_WORD_CUES.items() if folded in words]
        weight = (
            _WORD_WEIGHT_BY_SHARING[len(users)]
            if len(users) < len(_WORD_WEIGHT_BY_SHARING)
            else _SHARED_WORD_WEIGHT
        )
        _add(scores, {lang: weight for lang in users}, 1)
    for needle, weights in CHAR_CUES:
        hits = min(text.count(needle), _MAX_CUE_HITS)
        _add(scores, weights, hits)
    for pattern, weights in TOKEN_CUES:
        hits = min(sum(1 for token in tokens if pattern.fullmatch(token)), _MAX_CUE_HITS)
        _add(scores, weights, hits)
    for letters, lang, per_word, cap in ABSENCE_CUES:
        if lang in scores and not any(ch in letters for ch in text):
            scores[lang] -= min(per_word * (len(tokens) - 1), cap)
    return scores


def _add(scores: dict[str, float], weights: Mapping[str, float], hits: int) -> None:
    if hits:
        for lang, weight in weights.items():
            if lang in scores:
                scores[lang] += weight * hits
