"""What WhatsApp itself writes into an export, in the languages of the phones that export:
media placeholders, attachments, deleted messages, notices and member events.

An export is written in the phone's language. The placeholders are the ones WhatsApp
writes (collected by chat analyzers that read many locales, e.g. chat-analytics' table of
"<Media omitted>" in 60 languages); each language's member events are matched by their
verbs, so a German, Spanish, French or Chinese export gives the same joins and leaves as
an English one, and a notice never becomes a member.
"""

from __future__ import annotations

import re

# Android "without media": the whole text is one of these (compared lower-cased)
MEDIA_OMITTED = frozenset({
    "<media omitted>", "<medien ausgeschlossen>", "<medien weggelassen>",
    "<multimedia omitido>", "<archivo omitido>", "<médias omis>", "<fichier omis>",
    "<media omessi>", "<media omesso>", "<mídia oculta>", "<arquivo de mídia oculto>",
    "<ficheiro não revelado>", "<media weggelaten>", "<без медиафайлов>", "<файл пропущен>",
    "<省略多媒体文件>", "<忽略多媒體檔>", "<medya dahil edilmedi>", "<pominięto multimedia>",
})  # fmt: skip
# iOS: "image omitted" and the like, per kind (a document's name may come before it)
MEDIA_KINDS = {
    "image": ("image omitted", "bild weggelassen", "imagen omitida", "image absente",
              "immagine omessa", "imagem ocultada", "图片已省略", "圖片已略去"),
    "video": ("video omitted", "gif omitted", "video weggelassen", "gif weggelassen",
              "video omitido", "gif omitido", "vidéo absente", "gif retiré", "视频已省略"),
    "voice": ("audio omitted", "audio weggelassen", "audio omitido", "audio omis",
              "音频已省略"),
    "sticker": ("sticker omitted", "sticker weggelassen", "sticker omitido", "sticker omis",
                "贴图已省略"),
    "file": ("document omitted", "dokument weggelassen", "documento omitido",
             "document omis", "文档已省略"),
    "contact_card": ("contact card omitted", "kontaktkarte weggelassen",
                     "tarjeta de contacto omitida"),
}  # fmt: skip
# Android "with media": "IMG-20241207-WA0001.jpg (file attached)" in the phone's language
_ATTACHED = re.compile(
    r"^(\S.*?\.\w{2,5}) \((?:file attached|datei angehängt|archivo adjunto|fichier joint|"
    r"file allegato|arquivo anexado|ficheiro anexado|bestand bijgevoegd|文件附件|附件)\)",
    re.IGNORECASE,
)
# iOS "with media": "<attached: 00000042-PHOTO-2020-06-07-15-13-20.jpg>", label translated
_IOS_ATTACHED = re.compile(r"^<[^<>:]{2,24}: ?(\S[^<>]*\.\w{2,5}) ?>$")
_PREFIX_KINDS = {"IMG": "image", "PHOTO": "image", "VID": "video", "VIDEO": "video",
                 "AUD": "voice", "AUDIO": "voice", "PTT": "voice", "STK": "sticker",
                 "STICKER": "sticker", "DOC": "file", "GIF": "video"}  # fmt: skip
_EXT_KINDS = {"jpg": "image", "jpeg": "image", "png": "image", "webp": "sticker",
              "heic": "image", "mp4": "video", "mov": "video", "3gp": "video",
              "opus": "voice", "m4a": "voice", "aac": "voice", "mp3": "voice",
              "vcf": "contact_card"}  # fmt: skip
# a date in an attachment's name: IMG-20241207-WA0001.jpg, 00000042-PHOTO-2020-06-07-…
FILE_DATE = re.compile(r"\b(?:IMG|VID|AUD|PTT|STK|DOC|PHOTO|VIDEO|AUDIO|STICKER|GIF)-"
                       r"(\d{4})-?(\d{2})-?(\d{2})\b")  # fmt: skip

DELETED = frozenset({
    "this message was deleted", "you deleted this message",
    "diese nachricht wurde gelöscht", "du hast diese nachricht gelöscht",
    "se eliminó este mensaje", "eliminaste este mensaje",
    "ce message a été supprimé", "vous avez supprimé ce message",
    "questo messaggio è stato eliminato", "esta mensagem foi apagada", "此消息已删除",
    "你删除了此消息",
})  # fmt: skip
# notices WhatsApp posts (iOS as a "message" from the group itself): never a member
NOTICES = ("messages and calls are end-to-end encrypted", "messages to this group are now",
           "nachrichten und anrufe sind ende-zu-ende-verschlüsselt",
           "los mensajes y las llamadas están cifrados de extremo a extremo",
           "les messages et les appels sont chiffrés de bout en bout",
           "i messaggi e le chiamate sono crittografati end-to-end",
           "as mensagens e as chamadas são protegidas com a criptografia de ponta-a-ponta",
           "消息和通话已进行端到端加密", "訊息和通話皆經端對端加密")  # fmt: skip
ME_NAMES = frozenset({"you", "du", "sie", "tú", "usted", "vous", "tu", "你", "您"})


class Language:
    """One language's member events: each pattern's groups are (actor, names) or (name,)."""

    def __init__(
        self, code: str, joined: str, added: str, removed: str, left: str, lists: str
    ) -> None:
        self.code = code
        self.joined = re.compile(joined + r"\.?$")
        self.added = re.compile(added + r"\.?$")
        self.removed = re.compile(removed + r"\.?$")
        self.left = re.compile(left + r"\.?$")
        self.lists = re.compile(lists)


# "X hat das Gruppenbild entfernt": the group's things are not members
_NOT_GROUP = "(?!(?:die|das|den|deine|seine) )"
LANGUAGES = (
    Language("en", r"(.+?) joined using this group's invite link", r"(.+?) added (.+)",
             r"(.+?) removed (.+)", r"(.+?) left", r",\s*|\s+and\s+"),
    Language("de", r"(.+?) (?:ist|bist) (?:der Gruppe )?über den Einladungslink "
             r"(?:dieser Gruppe )?beigetreten", rf"(.+?) (?:hat|hast) {_NOT_GROUP}(.+) hinzugefügt",
             rf"(.+?) (?:hat|hast) {_NOT_GROUP}(.+) entfernt",
             r"(.+?) (?:hat|hast) die Gruppe verlassen", r",\s*|\s+und\s+"),
    Language("es", r"(.+?) se unió (?:al grupo )?(?:usando|con|mediante) el enlace de "
             r"invitación(?: de este grupo)?", r"(.+?) añadió a (.+)",
             r"(.+?) eliminó a (.+)", r"(.+?) salió del grupo", r",\s*|\s+y\s+"),
    Language("fr", r"(.+?) a rejoint (?:ce|le) groupe (?:via|avec) le lien d['’]invitation",
             r"(.+?) a ajouté (.+)", r"(.+?) a retiré (.+)", r"(.+?) est parti(?:e)?",
             r",\s*|\s+et\s+"),
    Language("zh", r"(.+?) ?通过(?:此群组的)?邀请链接加入(?:了群组)?", r"(.+?) ?添加了 ?(.+)",
             r"(.+?) ?移除了 ?(.+)", r"(.+?) ?已?退出(?:了群组)?", r"[、，,]\s*|\s*和\s*"),
)  # fmt: skip
# locales that write dates day-first when the date has no number above 12 to tell
DAY_FIRST_LANGUAGES = frozenset({"de", "es", "fr"})
_NOTICE_LANGUAGE = {0: "en", 1: "en", 2: "de", 3: "es", 4: "fr"}


_NOTICE = re.compile("|".join(f"({re.escape(n)})" for n in NOTICES), re.IGNORECASE)
_ENDINGS = tuple(e for endings in MEDIA_KINDS.values() for e in endings)


def notice_language(text: str) -> str | None:
    """The language of a notice WhatsApp wrote, when ``text`` is one."""
    found = _NOTICE.match(text)  # one pass for all languages: every message is asked
    if found is None:
        return None
    return _NOTICE_LANGUAGE.get((found.lastindex or 1) - 1, "other")


def media_kind(text: str) -> str | None:
    """The kind of attachment ``text`` stands for, or None when it is text."""
    low = text.strip().lower().rstrip(".")
    if low in MEDIA_OMITTED:
        return "other"
    if low.endswith(_ENDINGS):
        for kind, endings in MEDIA_KINDS.items():
            if low.endswith(endings):
                return kind
    if "(" not in text and not low.startswith("<"):
        return None
    found = _ATTACHED.match(text) or _IOS_ATTACHED.match(text.strip())
    if found is None:
        return None
    name = found[1]
    prefix = re.match(r"(?:\d+-)?([A-Z]+)-", name)
    if prefix and prefix[1] in _PREFIX_KINDS:
        return _PREFIX_KINDS[prefix[1]]
    return _EXT_KINDS.get(name.rsplit(".", 1)[-1].lower(), "file")
