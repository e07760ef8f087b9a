"""The voice UDP wire format: IP discovery and RTP with Discord's transport encryption.

Only ``aead_xchacha20_poly1305_rtpsize`` is implemented, the one mode discord.py 2.7.1 and
Discord still have in common (discord.py's other modes are xsalsa20 ones Discord removed).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import nacl.exceptions
import nacl.secret

XCHACHA_RTPSIZE = "aead_xchacha20_poly1305_rtpsize"
RTP_FIXED_HEADER = 12
NONCE_SUFFIX = 4
AEAD_TAG = 16
OPUS_PAYLOAD_TYPE = 0x78

DISCOVERY_SIZE = 74
DISCOVERY_REQUEST = 1
DISCOVERY_RESPONSE = 2
_DISCOVERY_ADDRESS_SIZE = 64


class TransportError(ValueError):
    """A UDP packet that is not valid RTP for the negotiated mode."""


@dataclass(frozen=True)
class RtpHeader:
    sequence: int
    timestamp: int
    ssrc: int
    payload_type: int
    csrc_count: int
    has_extension: bool


def is_discovery_request(packet: bytes) -> bool:
    if len(packet) != DISCOVERY_SIZE:
        return False
    return bool(struct.unpack_from(">H", packet)[0] == DISCOVERY_REQUEST)


def discovery_ssrc(packet: bytes) -> int:
    return int(struct.unpack_from(">I", packet, 4)[0])


def discovery_response(ssrc: int, address: str, port: int) -> bytes:
    """Type 2, length 70, the ssrc, the address NUL-padded to 64 bytes, the port (big-endian)."""
    encoded = address.encode("ascii")
    if len(encoded) >= _DISCOVERY_ADDRESS_SIZE:
        raise ValueError(f"address too long for IP discovery: {address!r}")
    return struct.pack(
        ">HHI64sH",
        DISCOVERY_RESPONSE,
        DISCOVERY_SIZE - 4,
        ssrc,
        encoded.ljust(_DISCOVERY_ADDRESS_SIZE, b"\0"),
        port,
    )


def parse_header(packet: bytes) -> RtpHeader:
    if len(packet) < RTP_FIXED_HEADER:
        raise TransportError(f"{len(packet)}-byte packet is shorter than an RTP header")
    first, second, sequence, timestamp, ssrc = struct.unpack_from(">BBHII", packet)
    if first >> 6 != 2:
        raise TransportError(f"RTP version {first >> 6}, expected 2")
    return RtpHeader(
        sequence=sequence,
        timestamp=timestamp,
        ssrc=ssrc,
        payload_type=second & 0x7F,
        csrc_count=first & 0x0F,
        has_extension=bool(first & 0x10),
    )


def decrypt_xchacha_rtpsize(packet: bytes, key: bytes) -> tuple[RtpHeader, bytes]:
    """Return the header and the Opus payload of one ``aead_xchacha20_poly1305_rtpsize`` packet.

    The "rtpsize" modes authenticate, but do not encrypt, the RTP header up to and including
    the 4-byte extension preamble (profile, length in words); the extension body is the start
    of the encrypted plaintext and is stripped here. The packet ends with a 4-byte big-endian
    counter, which is the first 4 bytes of the otherwise zero 24-byte nonce.
    """
    header = parse_header(packet)
    clear_size = RTP_FIXED_HEADER + 4 * header.csrc_count + (4 if header.has_extension else 0)
    if len(packet) < clear_size + AEAD_TAG + NONCE_SUFFIX:
        raise TransportError(f"{len(packet)}-byte packet is too short for {XCHACHA_RTPSIZE}")
    nonce = packet[-NONCE_SUFFIX:] + bytes(nacl.secret.Aead.NONCE_SIZE - NONCE_SUFFIX)
    try:
        plaintext = nacl.secret.Aead(key).decrypt(
            packet[clear_size:-NONCE_SUFFIX], packet[:clear_size], nonce
        )
    except nacl.exceptions.CryptoError as error:
        raise TransportError(f"packet seq {header.sequence} failed to decrypt: {error}") from error
    if header.has_extension:
        words = struct.unpack_from(">H", packet, clear_size - 2)[0]
        plaintext = plaintext[4 * words :]
    return header, plaintext
