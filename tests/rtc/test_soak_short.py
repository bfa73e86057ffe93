"""A short soak (the long one is `python -m bench.soak`): three scripted citizens over real
WebRTC against a real server that admits two at a time, for about a minute. They ask spoken
questions in several languages, sometimes barge in, leave and come back; the third waits in
the queue, told its place, and is served when a place frees. Nothing crashes, every question
gets a reply, and once everyone has left the server holds no more sessions, peer
connections, threads or files than before."""

from __future__ import annotations

import pytest

from bench.server import ROOT, running_server
from bench.soak import QUESTIONS, clips, executor_threads, print_summary, settings_for, soak
from voice_agent.transports.rtc.manager import restrict_ice_addresses

# Piper and espeak-ng: fast voices, so a reply never waits on live Kokoro synthesis (seconds on a
# busy machine while the reply-audio cache is still filling); bench.soak asks in all languages
LANGS = ("en", "de", "uk")


async def test_three_citizens_two_places_queue_served_in_order_nothing_left_behind(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    restrict_ice_addresses(("127.0.0.1",))
    everything = clips(ROOT / "var" / "soak-clips")
    material = [m for m, (lang, _text) in zip(everything, QUESTIONS, strict=True) if lang in LANGS]
    with running_server(tmp_path_factory.mktemp("soak"), settings_for(max_active=2)) as (
        url,
        proc,
    ):
        r = await soak(
            url,
            proc.pid,
            material,
            citizens=3,
            seconds=60,
            seed=7,
            stay=(15.0, 25.0),  # each conversation is short, so the queue moves
            rejoin=(2.0, 5.0),
            stagger=1.0,
            barge_p=0.3,
        )
        print_summary(r)
        assert proc.poll() is None, "the server crashed"

    # every question was answered: no missing reply, error message or dropped connection
    assert not r.tally.errors, r.tally.errors
    assert sum(1 for t in r.tally.turns if t.latency is not None) >= 4, r.tally.turns
    # the third citizen (and any that came back while both places were taken) was queued,
    # told its place, and admitted from the head of the queue when a place freed
    q = r.queue
    assert q["queued"] >= 1 and q["ok"], q
    first_queued = next(v for v in r.tally.visits if v.positions)
    assert first_queued.positions[0][1] == 1
    assert first_queued.admitted is not None and first_queued.answered >= 1, first_queued
    # at most two were ever talking at once
    assert max(s.active for s in r.samples) <= 2
    # everyone left: nothing held, threads and files back near the level before the soak
    assert r.after.sessions == 0 and r.after.queued == 0 and r.after.pcs == 0, r.after
    # (asyncio's default executor keeps the threads it started, bounded: executor_threads)
    assert r.after.threads <= r.idle.threads + executor_threads(), (r.idle, r.after)
    assert r.after.fds <= r.idle.fds + 4, (r.idle, r.after)
