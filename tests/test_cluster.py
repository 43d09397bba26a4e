"""Scale-out with the real servers (deploy/cluster.py): PostgreSQL as Rasa's SQL tracker store, Redis as Rasa's
lock store, one action server, two Rasa servers with the trained model, and nginx in front of them hashing on the
sender id. Twenty conversations are held at once through nginx (REST channel, real actions, real knowledge base),
each naming a place and an item and then asking follow-ups that only the remembered slots can answer. Then one
Rasa server is killed (SIGKILL) mid-conversation and its conversations go on on the other one, from the shared
tracker store.

PostgreSQL, redis-server and nginx come from Debian's packages (deploy/install_services.sh, `make services`,
which `make test` runs); without them these tests fail, they do not skip. TEST_MODEL=path/to/model.tar.gz picks the
model; otherwise the current one (trained if needed, as tests/test_e2e.py does)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg2
import pytest
import redis
from conftest import running_cluster

from bot.ops.store import hash_sender
from deploy.cluster import DB_NAME, DB_USER, Cluster
from knowledge.query import KnowledgeBase
from knowledge.text import normalize

pytestmark = [pytest.mark.cluster, pytest.mark.server]  # PostgreSQL, Redis, nginx and the real servers

RESETTLEMENT = "002036004001"  # 异地安置退休人员备案
MATERNITY = "002036007004"  # 生育津贴支付
# Twenty places, each with its own phones: a reply with another conversation's region or item would show.
PLACES = [(place, "异地安置备案", RESETTLEMENT) for place in
          ["衡南县", "衡阳县", "衡山县", "衡东县", "祁东县", "常宁市", "耒阳市", "南岳区", "雁峰区", "石鼓区", "珠晖区",
           "蒸湘区"]] + \
         [(place, "生育津贴", MATERNITY) for place in
          ["芙蓉区", "天心区", "岳麓区", "开福区", "雨花区", "望城区", "浏阳市", "宁乡市"]]
FOLLOW_UPS = ["那要多久？", "电话呢", "监督电话呢"]  # each needs the remembered region and item
TIMEOUT = 90  # seconds for one message: 2 busy cores, other people's servers running too


@dataclass
class Conversation:
    """One user's conversation and what the knowledge base says its answers must contain."""
    place: str
    item_words: str
    code: str
    region_id: str = ""
    header: str = ""  # 【item name｜region label】, which every answer starts with
    expected: list[list[str]] = field(default_factory=list)  # per turn: strings the reply must contain
    phones: set[str] = field(default_factory=set)  # every phone number of this region for this item
    sender: str = field(default_factory=lambda: "cluster-" + uuid.uuid4().hex)
    replies: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)  # the Rasa server that answered each turn

    @property
    def messages(self) -> list[str]:
        return [f"{self.place} {self.item_words}要什么材料", *FOLLOW_UPS]


def conversations(kb: KnowledgeBase) -> list[Conversation]:
    result = []
    for place, words, code in PLACES:
        conversation = Conversation(place, words, code)
        region = kb.resolve_region(place).region
        assert region is not None, place
        entry = kb.guide(code, region).entries[0]
        conversation.region_id = region.id
        conversation.header = f"【{entry.name}｜{region.label}】"
        asked = [p.text for p in entry.phones if p.extra["kind"] in ("查询", "办理")]
        supervision = [p.text for p in entry.phones if p.extra["kind"] == "监督"]
        assert entry.materials and entry.time_limits and asked and supervision, (place, code)
        conversation.expected = [[normalize(entry.materials[0].text)[:12]], [normalize(entry.time_limits[0].text)],
                                 asked, supervision]
        conversation.phones = set(asked + supervision)
        result.append(conversation)
    return result


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    # Many conversations at once from one client address: nginx's REST limit (tests/test_security.py) is lifted.
    with running_cluster(request, "test-cluster", "scale-out test", rasa_servers=2, rest_rate="1000r/s") as started:
        yield started


def say(url: str, sender: str, message: str) -> tuple[str, str]:
    """Send one message through nginx; return the reply text and the Rasa server that answered it."""
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(f"{url}/webhooks/rest/webhook", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        replies = json.load(response)
        # nginx's $upstream_addr: the servers tried, the last one answered ("dead:port, alive:port")
        server = response.headers["X-Upstream"].split(",")[-1].strip()
    return "\n".join(reply.get("text") or "" for reply in replies), f"http://{server}"


def tracker(server: str, sender: str, token: str) -> dict:
    """A conversation's tracker from one Rasa server's HTTP API (its own address, with the token)."""
    url = f"{server}/conversations/{sender}/tracker?token={token}"
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        return json.load(response)


def hold(cluster: Cluster, talks: list[Conversation], turns: range) -> None:
    """Each conversation sends its messages of these turns in order; all conversations at the same time."""
    def run(conversation: Conversation) -> None:
        for turn in turns:
            text, server = say(cluster.url, conversation.sender, conversation.messages[turn])
            conversation.replies.append(text)
            conversation.servers.append(server)

    with ThreadPoolExecutor(max_workers=len(talks)) as pool:
        list(pool.map(run, talks))


def check_replies(talks: list[Conversation], turns: range) -> None:
    """Each reply answers its own conversation's item for its own region, with none of the others' phones."""
    for conversation in talks:
        others = set().union(*(c.phones for c in talks if c.region_id != conversation.region_id)) - conversation.phones
        for turn in turns:
            reply = normalize(conversation.replies[turn])
            where = f"{conversation.sender} turn {turn + 1} «{conversation.messages[turn]}»: {reply[:300]}"
            assert normalize(conversation.header) in reply, where
            for fact in conversation.expected[turn]:
                assert normalize(fact) in reply, f"{fact} missing; {where}"
            assert not [phone for phone in others if phone in reply], where


def check_trackers(server: str, talks: list[Conversation], turns: int, token: str) -> None:
    """The tracker that `server` reads from the shared store has each conversation's own slots and messages."""
    for conversation in talks:
        state = tracker(server, conversation.sender, token)
        assert state["slots"]["region"] == conversation.region_id, (server, conversation.sender, state["slots"])
        assert state["slots"]["item"] == conversation.code, (server, conversation.sender, state["slots"])
        said = [event["text"] for event in state["events"] if event["event"] == "user"]
        assert said == conversation.messages[:turns], (server, conversation.sender, said)


def test_conversations_are_held_concurrently_through_the_balancer_without_mixing(
        cluster: Cluster, kb: KnowledgeBase) -> None:
    talks = conversations(kb)
    redis_client = redis.Redis(host="127.0.0.1", port=cluster.redis_port, password=cluster.secrets["redis"])
    locks_before = int(redis_client.info("commandstats").get("cmdstat_set", {}).get("calls", 0))

    hold(cluster, talks, range(4))

    check_replies(talks, range(4))
    # Consistent hashing: every message of a conversation went to the same server, and both servers got some.
    for conversation in talks:
        assert len(set(conversation.servers)) == 1, (conversation.sender, conversation.servers)
    assert {c.servers[0] for c in talks} == set(cluster.rasa_urls)
    # The tracker store is shared: both servers read every conversation, whichever server held it.
    for server in cluster.rasa_urls:
        check_trackers(server, talks, 4, cluster.token)
    # nginx does not proxy the HTTP API, even with the token: only the channels and the web server are public.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{cluster.url}/conversations/{talks[0].sender}/tracker?token={cluster.token}",
                               timeout=TIMEOUT)
    assert refused.value.code == 404 and refused.value.headers["X-Upstream"].rsplit(":", 1)[1] in \
        {str(port) for port in cluster.web_ports}
    # The events are in PostgreSQL, and each message took a lock in Redis (Rasa's lock store writes it with SET).
    with psycopg2.connect(host="127.0.0.1", port=cluster.postgres_port, user=DB_USER,
                          password=cluster.secrets["postgres"], dbname=DB_NAME) as connection:
        with connection.cursor() as cursor:
            cursor.execute("select sender_id, count(*) from events where type_name = 'user' and sender_id = any(%s)"
                           " group by sender_id", ([c.sender for c in talks],))
            assert dict(cursor.fetchall()) == {c.sender: 4 for c in talks}
    connection.close()
    locks = int(redis_client.info("commandstats")["cmdstat_set"]["calls"]) - locks_before
    assert locks >= 4 * len(talks)


def test_a_killed_server_s_conversations_continue_on_the_other_from_the_shared_store(
        cluster: Cluster, kb: KnowledgeBase) -> None:
    talks = conversations(kb)
    hold(cluster, talks, range(2))
    check_replies(talks, range(2))
    victim, survivor = cluster.rasa_urls
    held = [c for c in talks if c.servers == [victim, victim]]
    stayed = [c for c in talks if c.servers == [survivor, survivor]]
    assert held and stayed and len(held) + len(stayed) == len(talks), [c.servers for c in talks]

    cluster.kill_rasa(0)  # SIGKILL, between the second and the third message of every conversation
    with pytest.raises(urllib.error.URLError):
        tracker(victim, held[0].sender, cluster.token)

    hold(cluster, talks, range(2, 4))
    # The killed server's conversations go on on the survivor with their remembered region and item (the
    # phones of their own region for their own item); the others did not move.
    check_replies(talks, range(4))
    for conversation in talks:
        assert conversation.servers[2:] == [survivor, survivor], (conversation.sender, conversation.servers)
    check_trackers(survivor, talks, 4, cluster.token)


def test_the_operations_console_reads_the_turns_from_postgresql(cluster: Cluster, kb: KnowledgeBase) -> None:
    """The web servers record the turns from the shared tracker store into PostgreSQL (any of them serves a
    feedback), with the senders hashed."""
    talks = conversations(kb)
    hold(cluster, talks, range(1))
    request = urllib.request.Request(f"{cluster.url}/api/feedback", json.dumps(
        {"sender": talks[0].sender, "rating": "up"}).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        assert response.status == 201
    hashes = [hash_sender(cluster.secrets["ops_salt"], c.sender) for c in talks]
    with psycopg2.connect(host="127.0.0.1", port=cluster.postgres_port, user=DB_USER,
                          password=cluster.secrets["postgres"], dbname=DB_NAME) as connection:
        with connection.cursor() as cursor:
            cursor.execute("select sender, kind, rating from turns where sender = any(%s)", (hashes,))
            rows = cursor.fetchall()
    connection.close()
    assert sorted(row[0] for row in rows) == sorted(hashes)
    assert {row[1] for row in rows} == {"answer"} and [row[2] for row in rows].count("up") == 1
