"""The WeChat official-account message protocol: signatures, safe-mode crypto, XML in and out.

No web framework here: the channel (bot/channels/wechat.py) maps SignatureError to 403 and ProtocolError to 400.
Untrusted XML is parsed with defusedxml (no DTD, no entities); the crypto is wechatpy's.
"""
from __future__ import annotations

import re
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException, WeChatException
from wechatpy.utils import check_signature

from actions.config import MAX_REPLY_BYTES
from knowledge.bot_texts import say

TRUNCATION_NOTE = say("channels.truncation_note")
REQUIRED_FIELDS = ("ToUserName", "FromUserName", "MsgType")
# Characters XML 1.0 cannot carry (control characters other than tab and line breaks).
NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class SignatureError(ValueError):
    """The request is not signed with our token (answered 403)."""


class ProtocolError(ValueError):
    """The request is not a well-formed WeChat message (answered 400)."""


@dataclass(frozen=True)
class Message:
    """One message or event pushed by WeChat: the XML's top-level fields by tag."""

    fields: Mapping[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    @property
    def openid(self) -> str:
        return self.get("FromUserName")

    @property
    def msg_type(self) -> str:
        return self.get("MsgType")

    @property
    def event(self) -> str:
        return self.get("Event").lower()

    @property
    def question(self) -> str:
        """The words the user sent: a text message's content, or WeChat's recognition of a voice message."""
        if self.msg_type == "text":
            return self.get("Content").strip()
        if self.msg_type == "voice":
            return self.get("Recognition").strip()
        return ""

    @property
    def key(self) -> str:
        """What identifies the message across WeChat's retries: MsgId, else sender and time (events)."""
        return self.get("MsgId") or f"{self.openid}:{self.get('CreateTime')}:{self.msg_type}"


def verify_signature(token: str, query: Mapping[str, str], max_age: float = 0, now: float | None = None) -> None:
    """Check the URL signature (SHA1 of the sorted token, timestamp and nonce) and, with a `max_age` in seconds,
    that its timestamp is within that many seconds of `now` (default: the clock), so that a request recorded
    earlier cannot be replayed."""
    signature, timestamp, nonce = (query.get(k, "") for k in ("signature", "timestamp", "nonce"))
    if not (token and signature and timestamp and nonce):
        raise SignatureError("missing token, signature, timestamp or nonce")
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException as error:
        raise SignatureError("wrong signature") from error
    if max_age:
        if not timestamp.isdigit():
            raise SignatureError(f"timestamp {timestamp[:20]!r} is not a number")
        age = (time.time() if now is None else now) - int(timestamp)
        if abs(age) > max_age:
            raise SignatureError(f"timestamp {age:.0f} s from now, outside the {max_age:.0f} s window")


def parse_fields(body: bytes) -> dict[str, str]:
    """The top-level fields of an <xml> document; DTDs, entities and malformed XML are refused."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as error:
        raise ProtocolError(f"unacceptable XML: {error}") from error
    if root.tag != "xml":
        raise ProtocolError(f"root element <{root.tag}>, expected <xml>")
    return {child.tag: child.text or "" for child in root}


def to_message(fields: dict[str, str]) -> Message:
    missing = [name for name in REQUIRED_FIELDS if not fields.get(name)]
    if missing:
        raise ProtocolError(f"missing {', '.join(missing)}")
    return Message(fields)


def open_envelope(crypto: WeChatCrypto, envelope: dict[str, str], query: Mapping[str, str]) -> bytes:
    """The plaintext XML of a safe-mode message, after checking msg_signature over its Encrypt field."""
    encrypt = envelope.get("Encrypt", "")
    if not encrypt:
        raise ProtocolError("safe-mode message without Encrypt")
    signature, timestamp, nonce = (query.get(k, "") for k in ("msg_signature", "timestamp", "nonce"))
    try:
        plaintext = crypto.decrypt_message({"Encrypt": encrypt}, signature, timestamp, nonce)
    except InvalidSignatureException as error:
        raise SignatureError("wrong msg_signature") from error
    except (ValueError, TypeError, IndexError, struct.error, WeChatException) as error:
        raise ProtocolError(f"cannot decrypt: {error!r}") from error
    return plaintext.encode("utf-8")


def seal(crypto: WeChatCrypto, xml: str, nonce: str) -> str:
    """A reply encrypted for safe mode: <Encrypt>, <MsgSignature>, <TimeStamp>, <Nonce>."""
    return crypto.encrypt_message(xml, nonce, str(int(time.time())))


def cdata(value: str) -> str:
    """Text as CDATA, with any ']]>' split across sections and non-XML characters removed."""
    clean = NOT_XML_CHARS.sub("", value)
    return "<![CDATA[" + clean.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(message: Message, content: str) -> str:
    """A passive text reply to a message: sender and recipient swapped, content within the text limit."""
    return (f"<xml><ToUserName>{cdata(message.openid)}</ToUserName>"
            f"<FromUserName>{cdata(message.get('ToUserName'))}</FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content>{cdata(fit_text(content))}</Content></xml>")


def fit_text(text: str, limit: int = MAX_REPLY_BYTES) -> str:
    """The text within `limit` UTF-8 bytes: cut at a line end if one is near, else at a character, with a note."""
    if len(text.encode("utf-8")) <= limit:
        return text
    budget = limit - len(TRUNCATION_NOTE.encode("utf-8"))
    cut = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    line_end = cut.rfind("\n")
    if line_end >= len(cut) * 3 // 4:
        cut = cut[:line_end]
    return cut.rstrip() + TRUNCATION_NOTE
