"""The OPTIONS request doctor sends and its reading of replies, over a socket pair."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from endpoints.desired import Proxy
from endpoints.doctor import sip

PROXY = Proxy("sip2-ec.huaweicloud.com", 5061)


def test_the_request_follows_rfc_3261() -> None:
    request = sip.options_request(PROXY, ("192.0.2.10", 40000))
    assert request.text.endswith("\r\n\r\n") and "\n" not in request.text.replace("\r\n", "")
    lines = request.text.split("\r\n")
    assert lines[0] == "OPTIONS sip:sip2-ec.huaweicloud.com:5061;transport=tls SIP/2.0"
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    assert headers["Via"] == f"SIP/2.0/TLS 192.0.2.10:40000;branch={request.branch};rport"
    assert request.branch.startswith("z9hG4bK") and len(request.branch) > len("z9hG4bK") + 8
    assert headers["Max-Forwards"] == "70"
    assert headers["From"].endswith(f";tag={request.tag}")
    assert headers["To"] == "<sip:sip2-ec.huaweicloud.com:5061>"
    assert headers["Call-ID"] == request.call_id
    assert headers["CSeq"] == "1 OPTIONS"
    assert headers["Contact"] == "<sip:endpoints-doctor@192.0.2.10:40000;transport=tls>"
    assert headers["Accept"] == "application/sdp"
    assert headers["Content-Length"] == "0"


def test_ipv6_addresses_are_bracketed() -> None:
    request = sip.options_request(Proxy("2001:db8::5", 5061), ("2001:db8::10", 40000))
    assert request.text.startswith("OPTIONS sip:[2001:db8::5]:5061;transport=tls SIP/2.0\r\n")
    assert "Via: SIP/2.0/TLS [2001:db8::10]:40000;" in request.text


def test_branch_tag_and_call_id_are_fresh() -> None:
    one, two = (sip.options_request(PROXY, ("192.0.2.10", 40000)) for _ in range(2))
    assert one.branch != two.branch and one.tag != two.tag and one.call_id != two.call_id


def test_compact_and_folded_headers() -> None:
    response = sip.parse_response(b"SIP/2.0 200 OK\r\ni: abc@host\r\nl: 0\r\nServer: Huawei\r\n"
                                  b"Allow: INVITE,\r\n OPTIONS\r\n\r\n")
    assert response.status_line == "SIP/2.0 200 OK" and response.final
    assert response.headers["call-id"] == "abc@host" and response.headers["content-length"] == "0"
    assert response.headers["allow"] == "INVITE, OPTIONS"
    assert response.server == "Huawei"
    assert sip.parse_response(b"SIP/2.0 100 Trying\r\nUser-Agent: x\r\n\r\n").server == "x"
    assert not sip.parse_response(b"SIP/2.0 183 Session Progress\r\n\r\n").final


def test_a_reply_that_is_not_sip() -> None:
    with pytest.raises(sip.NotSip):
        sip.parse_response(b"HTTP/1.1 400 Bad Request\r\n\r\n")


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        yield ours, theirs


def reply(request: sip.OptionsRequest, status: str, *, call_id: str = "", body: bytes = b"") -> bytes:
    head = [f"SIP/2.0 {status}", f"Via: SIP/2.0/TLS x;branch={request.branch}",
            f"Call-ID: {call_id or request.call_id}", "CSeq: 1 OPTIONS", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def serve(theirs: socket.socket, request: sip.OptionsRequest, *chunks: bytes, close: bool = False) -> threading.Thread:
    def run() -> None:
        theirs.recv(65536)
        for chunk in chunks:
            theirs.sendall(chunk)
        if close:
            theirs.shutdown(socket.SHUT_WR)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_the_final_answer_after_strays_provisionals_and_a_body_split_in_pieces(pair) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = pair
    request = sip.options_request(PROXY, ("127.0.0.1", 1))
    stray = reply(request, "200 OK", call_id="someone-else")
    trying = reply(request, "100 Trying", body=b"v=0\r\n\r\n")  # a body that holds a blank line
    final = reply(request, "405 Method Not Allowed")
    data = b"\r\n\r\n" + stray + trying + final  # keep-alive CRLFs first
    serve(theirs, request, data[:7], data[7:50], data[50:])
    response = sip.exchange(ours, request, time.monotonic() + 5)
    assert response.status == 405 and response.headers["call-id"] == request.call_id


def test_closed_without_an_answer(pair) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = pair
    request = sip.options_request(PROXY, ("127.0.0.1", 1))
    serve(theirs, request, reply(request, "100 Trying"), close=True)
    with pytest.raises(sip.Closed):
        sip.exchange(ours, request, time.monotonic() + 5)


def test_garbage_is_not_sip(pair) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = pair
    request = sip.options_request(PROXY, ("127.0.0.1", 1))
    serve(theirs, request, b"220 smtp.example ESMTP ready\r\n")
    with pytest.raises(sip.NotSip, match="220 smtp"):
        sip.exchange(ours, request, time.monotonic() + 5)


def test_provisional_only_until_the_deadline(pair) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = pair
    request = sip.options_request(PROXY, ("127.0.0.1", 1))
    serve(theirs, request, reply(request, "100 Trying"))
    with pytest.raises(sip.NoAnswer) as caught:
        sip.exchange(ours, request, time.monotonic() + 0.5)
    assert [r.status_line for r in caught.value.provisional] == ["SIP/2.0 100 Trying"]
