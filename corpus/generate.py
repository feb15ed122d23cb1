"""Generate ``corpus/generated.jsonl``: template-built, labelled ICP filing notices.

Run ``python corpus/generate.py`` from anywhere; it writes ``corpus/generated.jsonl`` next to
this file and prints counts. The output is byte-identical on every run as long as this script,
the other ``corpus/*.jsonl`` files (see *Deduplication*) and ``icp_notify.normalize`` are
unchanged. ``python corpus/generate.py --check`` exits 1 when the committed file is stale.

Everything here is made up: names, companies, domains, filing numbers, phone numbers, order
numbers and links. Only MIIT's standard change sentence (尊敬的用户XX，您的备案信息已被变更，
详情请咨询您的接入服务提供商。) is used verbatim, because it is the one fixed text the project is
about.

How a record is built
---------------------
Every record comes from a *slot* ``(section, i)`` and its own ``random.Random`` seeded with
``f"{SEED}|{section}|{i}|{attempt}"`` (string seeds are hashed with SHA-512, so the stream does
not depend on ``PYTHONHASHSEED``). A record is built in layers:

1. **values** — a recipient name (masked ``张**``/``张*``/``张某某``/``XX``, a full made-up name,
   or a company), domains (ASCII from pinyin syllables and IDN such as ``拾光笔记.中国``), an ICP
   number (8 or 10 digits, every province including the alternate abbreviations 蜀 黔 滇 陇 秦
   and the traditional 粵, an optional ``-N`` site suffix), a provider (:data:`PROVIDERS`, 18 of
   them, each with aliases, SMS signatures, SMS sender numbers and an email address) and dates;
2. **wording** — for each kind, several interchangeable body fragments, combined with an
   opening, a next-step sentence and a closing drawn from pools that fit the channel (SMS with a
   【signature】 before or after, or an email with greeting, signature block and subject);
3. **punctuation** — kept full-width, turned half-width, or partly dropped;
4. **noise** — extra spaces, broken lines, typos users make (北岸/备按 for 备案, 接人 for 接入,
   变跟 for 变更), traditional characters, ``回T退订`` / ``拒收请回复R`` tails;
5. **wrappers** — an SmsForwarder default template (sender line, SMS, ``SIM1_中国移动_155****6357``,
   ``SubId：1``, receive time, device name), JSON pasted as text (SmsForwarder JSON, SMS Gateway
   for Android, ad-hoc ``{"sender", "text"}``), a user's paste with a remark around the SMS
   (刚收到这条短信，是什么意思？), or a forwarded email (``Fwd:`` with a Gmail or a QQ-mail
   "原始邮件" header block, sometimes with a remark above it); some provider emails are HTML-only.

Labels never depend on layers 3–5. The generic MIIT notice without context is ambiguous over all
four change situations.

Hard negatives (``situation = other``) share the vocabulary of change notices on purpose:
verification codes that name 新增网站/接入备案, 核查 requests that threaten 取消接入, CDN/WAF/高防
"接入" and "取消接入", phishing copies of the generic sentence with a link, domain-registrar 转入,
公网安备 approvals, anti-fraud warnings that mention 备案, and provider marketing.

Context cases (``note`` starts with ``ctx:``)
--------------------------------------------
The generic notice is paired with a ``context`` (operations and previous notices) built so that
exactly one context rule of issue 3 applies; ``T`` is the notice's ``received_at`` and ages are
``T - submitted_at``. "Valid" means submitted at least one day before the notice.

``ctx:single_kind``
    1–3 operations of one kind aged 1.2–19.5 days (sometimes plus an old new/modify operation
    over 60 days, or an old move of provider) → that kind.
``ctx:too_recent``
    an operation aged under one day is ignored: alone → ambiguous over all four; beside a valid
    operation of another kind → the valid one's kind.
``ctx:after_notice``
    an operation submitted after the notice is ignored, the same two ways.
``ctx:used_by_previous``
    older new/modify operations are used up, in time order, by earlier generic notices in
    ``previous_notices`` (each earlier notice has exactly one valid unused operation to take);
    the one operation left decides.
``ctx:all_used``
    every operation was used up by earlier generic notices (none of them ``access_domain``) →
    ambiguous over all four.
``ctx:progress_uses_nothing``
    verification codes and progress notices in ``previous_notices`` use nothing up; the single
    operation kind still decides.
``ctx:confirmed_access_then_generic``
    an ``access_domain`` operation (often with ``from_provider``) confirmed by the new provider's
    explicit access-success notice in ``previous_notices``; the next generic notice is the old
    provider's cancellation → ``access_cancelled``.
``ctx:completed_move`` (issue 10, family 1)
    an ``access_domain`` operation explained by an earlier generic notice (sometimes followed by
    the new provider's own notice), nothing filed since → ``access_cancelled``.
``ctx:late_cancellation`` / ``ctx:keeps_previous_provider`` (family 2, the last section)
    an ``access_domain`` operation 61–300 days old that nothing explained → ``access_cancelled``;
    with ``keeps_previous_provider`` → ambiguous over all four.
``ctx:cancellation_due`` (family 3)
    a move explained 20–100 days ago, no cancellation yet, and a pending new/modify operation →
    ambiguous between that kind and ``access_cancelled``.
``ctx:late_cancellation``
    no operation in the 60 days before the notice, and an earlier move of provider: either an
    ``access_domain`` operation with ``from_provider`` set, or an access operation confirmed by a
    provider access notice, 61–300 days ago → ``access_cancelled``.
``ctx:mixed_kinds``
    unused valid operations of two or three kinds (no move) → ambiguous, ``candidates`` = those
    kinds in the fixed order new, modify, access.
``ctx:nothing_explains``
    an empty context, or only new/modify operations older than 60 days → ambiguous over all four.
``ctx:stale_op``
    only new/modify operations 21–60 days old (outside the 1–20 day window, inside 60 days, no
    move): they cannot decide, but they narrow — two kinds → ambiguous over those two; one kind
    → ambiguous over all four (one candidate would be a decision the rules do not allow).
``ctx:text_wins``
    an explicit provider notice (or a verification code) with a context that points elsewhere →
    labelled by the text.

Deduplication
-------------
Texts are compared with :func:`icp_notify.corpus.text_key` (``icp_notify.normalize`` when
present, then whitespace removed). A slot whose text collides with an earlier generated record
or with any other ``corpus/*.jsonl`` file is rebuilt with the next ``attempt``; a slot that
fails 60 times is skipped, leaving a gap in the ids. Ids are ``gen-NNNNN`` by slot, so a
collision only changes its own slot.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from icp_notify.corpus import CorpusRecord, text_key  # noqa: E402

SEED = "icp-notify-corpus-v1"
OUTPUT = HERE / "generated.jsonl"
CST = dt.timezone(dt.timedelta(hours=8))
ALL4 = ["new_domain", "modify_domain", "access_domain", "access_cancelled"]
OPS3 = ["new_domain", "modify_domain", "access_domain"]
MIIT_SMS = "12381"

R = random.Random  # short alias for type hints

# --------------------------------------------------------------------------- providers


@dataclass(frozen=True)
class Provider:
    """A hosting provider as it appears in notices (all addresses and numbers made up)."""

    name: str
    aliases: tuple[str, ...]
    slug: str
    team: str
    console: str

    def senders(self) -> list[str]:
        rng = random.Random(f"sender|{self.slug}")
        return [f"1069{rng.randrange(10**7, 10**8)}" for _ in range(2)] + [
            f"106{rng.randrange(10**9, 10**10)}"
        ]

    def email(self, rng: R) -> str:
        local = rng.choice(["noreply", "no-reply", "beian", "service", "notice"])
        return f"{local}@{rng.choice(['mail', 'notice', 'msg'])}.{self.slug}.example.com"


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "阿里云",
        ("阿里云", "Aliyun", "万网", "阿里云计算"),
        "aliyun-demo",
        "阿里云备案中心",
        "ICP代备案管理系统",
    ),
    Provider(
        "腾讯云",
        ("腾讯云", "Tencent Cloud", "腾讯云计算"),
        "tcloud-demo",
        "腾讯云网站备案",
        "腾讯云备案控制台",
    ),
    Provider(
        "华为云",
        ("华为云", "HUAWEI CLOUD", "华为云计算"),
        "hwcloud-demo",
        "华为云备案中心",
        "华为云备案系统",
    ),
    Provider(
        "百度智能云",
        ("百度智能云", "百度云", "Baidu AI Cloud"),
        "bdcloud-demo",
        "百度智能云备案服务",
        "备案管理控制台",
    ),
    Provider("京东云", ("京东云", "JD Cloud"), "jdcloud-demo", "京东云备案团队", "京东云备案中心"),
    Provider(
        "西部数码",
        ("西部数码", "西部数码网络"),
        "westdigi-demo",
        "西部数码备案部",
        "西部数码会员中心",
    ),
    Provider("新网", ("新网", "新网数码", "Xinnet"), "xinnet-demo", "新网备案中心", "新网备案系统"),
    Provider("美橙互联", ("美橙互联", "美橙"), "meicheng-demo", "美橙互联备案组", "美橙会员中心"),
    Provider("景安网络", ("景安", "景安网络"), "jingan-demo", "景安网络备案中心", "景安备案平台"),
    Provider(
        "天翼云",
        ("天翼云", "中国电信天翼云", "电信天翼云"),
        "ctyun-demo",
        "天翼云备案服务",
        "天翼云备案系统",
    ),
    Provider(
        "移动云", ("移动云", "中国移动云"), "ecloud-demo", "移动云备案中心", "移动云备案控制台"
    ),
    Provider(
        "火山引擎",
        ("火山引擎", "Volcengine"),
        "volc-demo",
        "火山引擎备案团队",
        "火山引擎备案控制台",
    ),
    Provider(
        "联通云",
        ("联通云", "沃云", "中国联通云"),
        "cucloud-demo",
        "联通云备案中心",
        "联通云备案平台",
    ),
    Provider(
        "UCloud",
        ("UCloud", "优刻得", "UCloud优刻得"),
        "ucloud-demo",
        "UCloud备案中心",
        "UCloud备案控制台",
    ),
    Provider(
        "青云",
        ("青云", "QingCloud", "青云QingCloud"),
        "qingcloud-demo",
        "青云备案服务",
        "青云备案控制台",
    ),
    Provider(
        "金山云", ("金山云", "Kingsoft Cloud"), "ksyun-demo", "金山云备案中心", "金山云备案系统"
    ),
    Provider("35互联", ("35互联", "三五互联"), "35hl-demo", "35互联备案部", "35互联备案平台"),
    Provider(
        "浪潮云", ("浪潮云", "Inspur Cloud"), "inspur-demo", "浪潮云备案中心", "浪潮云备案控制台"
    ),
)

# --------------------------------------------------------------------------- values

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱武戴孔"
    "汤庞樊兰殷施陶洪翟安颜倪严牛温季俞章鲁葛伍申尤毕聂柴焦向柳邢岳齐梅莫庄辛管祝左涂谷祁舒耿卜詹"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉萍红玲芬燕春菊兰凤洁梅琳云莲雪荣瑞凡佳嘉琼珍"
    "莉晶妍茜秋珊锦青倩婷婉瑾颖露瑶怡雁丹蓉君琴蕊薇菁岚馨韵园艺聪澜悦昭冰爽茗羽希宁欣滢筠柔竹凝晓"
    "欢枫芸菲帆航宇轩涵博文鸣远浩然泽辰睿哲毅峰松柏川岳"
)
CITIES = (
    "杭州",
    "深圳市",
    "北京",
    "成都",
    "武汉",
    "厦门",
    "南京",
    "苏州",
    "长沙",
    "西安",
    "合肥",
    "青岛",
    "宁波",
    "重庆",
    "昆明",
    "贵阳",
    "兰州",
    "郑州",
    "济南",
    "福州",
    "南宁",
    "海口",
    "天津",
    "石家庄",
)
FIRM_WORDS = (
    "青木",
    "蓝舟",
    "远帆",
    "星禾",
    "澄明",
    "拾光",
    "北辰",
    "南枝",
    "云溪",
    "栖梧",
    "墨白",
    "知行",
    "青禾",
    "禾木",
    "鹿鸣",
    "望舒",
    "听澜",
    "松果",
    "橙子",
    "小满",
    "立夏",
    "半山",
    "观澜",
    "晴川",
)
INDUSTRIES = (
    "网络科技",
    "信息技术",
    "文化传媒",
    "电子商务",
    "软件开发",
    "教育咨询",
    "数据服务",
    "智能科技",
)
SYLLABLES = (
    "lan",
    "shan",
    "qing",
    "mu",
    "yun",
    "xi",
    "bei",
    "chen",
    "nan",
    "zhi",
    "mo",
    "bai",
    "xing",
    "he",
    "yuan",
    "fan",
    "lu",
    "ming",
    "wang",
    "shu",
    "ting",
    "song",
    "guo",
    "cheng",
    "xiao",
    "man",
    "li",
    "xia",
    "ban",
    "guan",
    "qiao",
    "tao",
    "hai",
    "feng",
    "jian",
    "le",
    "duo",
    "ke",
    "pu",
    "rui",
)
TLDS = (
    "com",
    "cn",
    "com.cn",
    "net",
    "top",
    "xyz",
    "org.cn",
    "net.cn",
    "cc",
    "tech",
    "site",
    "vip",
    "info",
)
IDN_WORDS = (
    "拾光笔记",
    "青木书屋",
    "小满工作室",
    "蓝舟科技",
    "远帆教育",
    "星禾农场",
    "墨白设计",
    "听澜茶社",
    "鹿鸣琴行",
    "半山民宿",
    "晴川摄影",
    "知行学堂",
    "橙子烘焙",
    "南枝花艺",
    "松果动漫",
    "观澜文创",
)
IDN_TLDS = ("cn", "中国", "公司", "网络", "com")
SITE_NAMES = (
    "个人博客",
    "技术笔记",
    "企业官网",
    "在线商城",
    "学习资料站",
    "摄影作品集",
    "工作室主页",
    "产品展示",
    "社区论坛",
    "开源项目文档",
    "小程序后台",
    "招聘信息站",
)
PROVINCES = (
    "京",
    "津",
    "冀",
    "晋",
    "蒙",
    "辽",
    "吉",
    "黑",
    "沪",
    "苏",
    "浙",
    "皖",
    "闽",
    "赣",
    "鲁",
    "豫",
    "鄂",
    "湘",
    "粤",
    "桂",
    "琼",
    "渝",
    "川",
    "贵",
    "云",
    "藏",
    "陕",
    "甘",
    "青",
    "宁",
    "新",
    "蜀",
    "黔",
    "滇",
    "陇",
    "秦",
    "粵",
)
PROVINCE_NAMES = {
    "京": "北京",
    "沪": "上海",
    "粤": "广东",
    "浙": "浙江",
    "苏": "江苏",
    "川": "四川",
    "鄂": "湖北",
    "闽": "福建",
    "鲁": "山东",
    "湘": "湖南",
    "豫": "河南",
    "陕": "陕西",
}
OPTYPES = ("新增网站", "接入备案", "变更备案", "首次备案", "新增接入", "变更网站", "新增域名")
MODIFY_WHATS = (
    "网站负责人信息",
    "网站名称",
    "网站域名",
    "主体负责人信息",
    "服务器IP地址",
    "网站服务内容",
    "主体通信地址",
    "网站负责人手机号码",
    "接入信息",
)
REJECT_REASONS = (
    "网站名称不符合规范",
    "负责人证件照片不清晰",
    "域名实名信息与主体不一致",
    "网站备注信息不完整",
    "手机号码核验未通过",
    "超时未完成短信核验",
    "核验单未签字",
    "网站名称含有企业名称以外的字样",
)
CHECK_ISSUES = (
    "网站内容与备案信息不符",
    "负责人手机号码无法接通",
    "网站长期无法访问",
    "网站名称与内容不一致",
    "主体证件已过期",
    "接入信息与实际不符",
)
DEVICES = (
    "Redmi K60",
    "HUAWEI Mate 40",
    "小米13",
    "OPPO Reno8",
    "vivo X90",
    "Pixel 7",
    "荣耀X40",
    "备用机",
    "Mi 10",
    "一加 11",
)
CARRIERS = ("中国移动", "中国联通", "中国电信")


def pick(rng: R, seq: Any) -> Any:
    return seq[rng.randrange(len(seq))]


def person(rng: R) -> str:
    s = pick(rng, SURNAMES)
    g = pick(rng, GIVEN)
    style = rng.random()
    if style < 0.22:
        return f"{s}**"
    if style < 0.32:
        return f"{s}*"
    if style < 0.40:
        return f"{s}某某"
    if style < 0.45:
        return f"{s}XX"
    if style < 0.52:
        return f"{s}*{g}"
    if style < 0.70:
        return f"{s}{g}{pick(rng, GIVEN)}"
    if style < 0.80:
        return f"{s}{g}"
    return f"{s}{g}{pick(rng, GIVEN)}"


def company(rng: R) -> str:
    city = pick(rng, CITIES)
    if rng.random() < 0.3:
        return f"{city}**{pick(rng, INDUSTRIES)}有限公司"
    return f"{city}{pick(rng, FIRM_WORDS)}{pick(rng, INDUSTRIES)}有限公司"


def recipient(rng: R) -> str:
    r = rng.random()
    if r < 0.12:
        return "XX"
    if r < 0.16:
        return "**"
    if r < 0.30:
        return company(rng)
    return person(rng)


def ascii_domain(rng: R) -> str:
    parts = [pick(rng, SYLLABLES) for _ in range(rng.choice([1, 2, 2, 3]))]
    label = "".join(parts) if rng.random() < 0.7 else "-".join(parts)
    if rng.random() < 0.25:
        label += str(rng.randrange(1, 999))
    host = f"{label}.{pick(rng, TLDS)}"
    if rng.random() < 0.15:
        host = f"{rng.choice(['www', 'blog', 'shop', 'm', 'api'])}.{host}"
    return host


def domain(rng: R) -> str:
    if rng.random() < 0.12:
        return f"{pick(rng, IDN_WORDS)}.{pick(rng, IDN_TLDS)}"
    return ascii_domain(rng)


def icp_base(rng: R) -> str:
    prov = pick(rng, PROVINCES)
    if rng.random() < 0.45:
        digits = str(rng.randrange(10**7, 10**8))
    else:
        digits = f"{rng.randrange(2015, 2026)}{rng.randrange(0, 10**6):06d}"
    return f"{prov}ICP备{digits}号"


def gongan(rng: R) -> str:
    prov = pick(rng, PROVINCES[:31])
    return f"{prov}公网安备{rng.randrange(110000, 659999)}{rng.randrange(0, 10**8):08d}号"


def when(rng: R) -> dt.datetime:
    day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(0, 1095))
    hour = rng.choice([8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 16, 17, 18, 19, 20, 21, 22, 2])
    return dt.datetime(
        day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=CST
    )


def cn_date(d: dt.datetime | dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def values(rng: R, prov: Provider, at: dt.datetime) -> dict[str, str]:
    base = icp_base(rng)
    site_no = rng.choice([1, 1, 2, 2, 3, 4, 5, 6, 8, 11])
    deadline = at + dt.timedelta(days=rng.choice([3, 5, 7, 10, 15, 20, 30]))
    return {
        "name": recipient(rng),
        "domain": domain(rng),
        "domain2": domain(rng),
        "icp": base,
        "icpn": f"{base}-{site_no}",
        "icpx": rng.choice([base, f"{base}-{site_no}"]),
        "site": pick(rng, SITE_NAMES),
        "alias": pick(rng, prov.aliases),
        "provname": prov.name,
        "team": prov.team,
        "console": prov.console,
        "date": cn_date(at),
        "deadline": cn_date(deadline),
        "days": str(rng.choice([3, 5, 7, 10, 15, 20, 30])),
        "code": f"{rng.randrange(0, 10**6):06d}",
        "order": f"{rng.randrange(10**11, 10**12)}",
        "ip": f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "what": pick(rng, MODIFY_WHATS),
        "optype": pick(rng, OPTYPES),
        "reason": pick(rng, REJECT_REASONS),
        "issue": pick(rng, CHECK_ISSUES),
        "gongan": gongan(rng),
        "price": rng.choice(["9.9", "38", "68", "99", "0.99", "199"]),
        "region": PROVINCE_NAMES.get(base[0], pick(rng, list(PROVINCE_NAMES.values()))),
        "other_alias": pick(rng, pick(rng, PROVIDERS).aliases),
        "phone": f"1{rng.choice('3578')}{rng.randrange(10)}****{rng.randrange(10**4):04d}",
    }


# --------------------------------------------------------------------------- wording

# Provider notices: kind -> body fragments. {placeholders} come from values().
BODIES: dict[str, tuple[str, ...]] = {
    "provider_new_domain": (
        "您的备案订单{order}（新增网站{domain}）已通过管局审核，网站备案号为{icpn}。",
        "您提交的新增网站备案已审核通过，域名：{domain}，备案号：{icpn}。",
        "您在{alias}提交的新增域名备案（{domain}）已通过通信管理局审核，新网站备案号{icpn}。",
        "您为主体{icp}新增的网站“{site}”已获管局审核通过，网站备案号{icpn}。",
        "网站{domain}的新增网站备案申请已由{region}通信管理局审核通过。主体备案号：{icp}，网站备案号：{icpn}。",
        "您的新增网站备案已成功，备案号：{icpn}，域名{domain}。",
        "恭喜！主体{icp}下新增网站{domain}备案成功，分配的网站备案号为{icpn}。",
        "新增域名{domain}已成功加入您的备案{icp}，管局已审核通过。",
    ),
    "provider_modify_domain": (
        "您提交的变更备案（{what}）已通过管局审核，备案号{icpn}保持不变。",
        "您的网站{domain}变更网站信息申请已审核通过。",
        "您的备案{icp}变更主体信息已通过管局审核。",
        "网站{domain}（{icpn}）的变更备案已通过，变更内容：{what}。",
        "变更接入信息（服务器IP变更为{ip}）已通过管局审核，网站备案号{icpn}。",
        "您提交的修改域名申请已审核通过，网站域名已由{domain2}变更为{domain}。",
        "备案订单{order}（变更备案）已通过{region}通信管理局审核，变更项：{what}。",
        "您的变更网站备案已完成，网站{domain}的{what}已更新。",
    ),
    "provider_access_domain": (
        "您的网站{domain}接入备案已通过管局审核，已成功接入{alias}，备案号{icpn}不变。",
        "您提交的新增接入备案已审核通过，网站{domain}现已接入{alias}。",
        "您的网站{domain}已成功转入{alias}，接入备案已通过，备案号：{icpn}。",
        "接入备案订单{order}已通过管局审核，原备案号{icpn}继续有效。",
        "网站{domain}（{icpn}）的接入备案申请已获{region}通信管理局批准，已成功接入。",
        "您的备案已成功接入{alias}：网站{domain}，备案号{icpn}。",
        "恭喜，您的网站{domain}新增接入已完成，管局审核通过。",
    ),
    "provider_access_cancelled": (
        "您的网站{domain}（{icpn}）已完成取消接入，该网站已不再接入{alias}。",
        "根据您的申请，我司已为网站{domain}取消接入，备案号{icpn}在{alias}的接入信息已删除。",
        "因您的网站{domain}逾期未完成整改，{alias}已于{date}对其取消接入。",
        "您的网站{domain}已从{alias}取消接入。",
        "因网站{domain}已迁出，{alias}已取消该网站的接入，备案号{icpn}。",
        "经核查，网站{domain}未使用{alias}的服务器，我司已完成取消接入操作。",
        "您的取消接入申请已办理完成：网站{domain}（{icpn}）已取消在{alias}的接入。",
        "网站{domain}的接入已被取消（取消接入已生效），备案号{icpn}。",
    ),
    "first_filing_approved": (
        "您的首次备案已通过管局审核，主体备案号{icp}，网站备案号{icp}-1。",
        "恭喜！您的ICP备案已成功，主体备案号：{icp}，网站{domain}备案号：{icp}-1。",
        "您提交的首次备案申请（{domain}）已获{region}通信管理局审核通过，主体备案号为{icp}。",
        "备案订单{order}（首次备案）审核通过，您的主体备案号为{icp}。",
        "您的网站{domain}首次备案成功，获得备案号{icp}-1，请妥善保管。",
    ),
    "progress": (
        "您的备案订单{order}已通过{alias}初审，已提交至管局审核，管局审核时间一般为1-20个工作日。",
        "您的{optype}申请已提交通信管理局，请耐心等待审核结果。",
        "您的备案信息正在审核中，请保持电话{phone}畅通，审核专员可能会与您联系。",
        "网站{domain}的{optype}已初审通过，请留意工信部短信核验。",
        "您的备案订单{order}已提交管局，当前状态：管局审核中。",
        "{optype}（{domain}）已进入管局审核阶段，审核通过后将以短信通知您。",
    ),
    "rejected": (
        "您的备案订单{order}被管局退回，原因：{reason}。请修改后重新提交。",
        "很抱歉，网站{domain}的{optype}未通过审核（驳回原因：{reason}），请登录{console}查看。",
        "您的{optype}申请已被退回：{reason}。",
        "备案订单{order}初审驳回，驳回原因：{reason}，请尽快修改。",
        "网站{domain}的接入备案被管局退回，原因：{reason}。",
    ),
    "filing_cancelled": (
        "您的网站{domain}（{icpn}）已完成注销网站，该网站备案号已失效。",
        "您申请的注销主体已由管局审核通过，主体备案号{icp}及其下所有网站备案已注销。",
        "网站{domain}的备案信息已被注销（注销网站），如需继续开办网站请重新备案。",
        "您的备案{icp}已被管局注销，原因：{reason}。",
    ),
    "shell_site_warning": (
        "经核查，您的备案{icp}下网站{domain}未接入任何服务商，属于空壳网站，请于{days}日内完成接入，否则将被注销。",
        "您的主体备案{icp}为空壳主体，请尽快办理接入备案，逾期管局将注销备案。",
        "网站{domain}（{icpn}）已无接入服务商，被列为空壳网站，请在{deadline}前处理。",
        "温馨提示：您的备案{icpn}处于空壳状态，请及时新增接入或主动注销。",
    ),
    "check_request": (
        "经核查，您的网站{domain}（{icpn}）存在{issue}，请于{deadline}前完成整改，逾期将取消接入。",
        "根据管局要求，{alias}正在开展备案信息核查，请在{days}天内登录{console}核实信息，逾期未处理我司将对网站取消接入。",
        "您的网站{domain}备案信息与实际不符（{issue}），请尽快办理变更备案，否则将按规定取消接入。",
        "备案核查通知：网站{domain}{issue}，请于{deadline}前整改，逾期未整改的将取消接入并报送管局。",
        "您的网站{domain}被抽查发现{issue}，请{days}日内整改，整改期间接入不受影响，逾期将取消接入。",
    ),
    "footer_reminder": (
        "请您在网站{domain}首页底部悬挂备案号{icp}并链接至https://beian.miit.gov.cn，未按要求悬挂将被核查。",
        "备案成功后请在网站底部显示备案号{icpn}，并链接到工信部备案系统网站。",
        "经检测，您的网站{domain}首页底部未悬挂备案号，请尽快添加{icp}。",
        "温馨提示：网站{domain}需在页面底部悬挂备案编号，否则可能被认定为未备案。",
    ),
    "unrelated_access": (
        "您的域名{domain}已成功接入CDN加速，请将CNAME解析至{cname}。",
        "您的域名{domain}已取消接入Web应用防火墙，流量将直接回源。",
        "Web应用防火墙：域名{domain}已接入成功，请修改DNS解析。",
        "DDoS高防：{domain}接入完成，防护已生效。",
        "您的网站{domain}已取消接入云安全中心网站监控。",
        "全站加速：域名{domain}接入成功，当前状态：运行中。",
        "您的域名{domain}已从CDN取消接入，加速服务已停止。",
        "对象存储自定义域名{domain}接入成功，已自动配置HTTPS证书。",
    ),
    "registrar_transfer": (
        "您的域名{domain}已成功转入{alias}，到期时间{deadline}。",
        "域名{domain}转出申请已提交，转移密码已发送至注册邮箱，请妥善保管。",
        "您的域名{domain}已完成注册商转移，实名信息已同步。",
        "域名转入成功：{domain}，请及时完成域名实名认证。",
        "您的域名{domain}已转出至其他注册商，如非本人操作请立即联系客服。",
    ),
    "public_security": (
        "您的网站{domain}公安联网备案已审核通过，公网安备号：{gongan}，请在网站底部悬挂公安备案标识。",
        "您提交的网站“{site}”公安备案申请已审核通过，备案编号{gongan}。",
        "公安机关已审核通过您的互联网站安全备案（{domain}），备案号{gongan}。",
        "请于30日内到全国互联网安全管理服务平台办理公安联网备案，网站{domain}已取得ICP备案。",
    ),
    "marketing": (
        "备案季特惠：云服务器新用户首年{price}元起，支持免费ICP备案，详情见{murl}",
        "域名注册低至{price}元，备案服务快至7个工作日，立即抢购：{murl}",
        "新用户专享：购买云服务器即送备案服务号，接入备案一站办理，{price}元起。",
        "您的专属优惠券已到账，可用于购买备案服务器，有效期至{deadline}。",
    ),
    "unrelated": (
        "您的云服务器实例i-{order}将于{deadline}到期，请及时续费以免影响业务。",
        "您的账号于{date}在新设备登录，验证码{code}，如非本人操作请修改密码。",
        "您的工单{order}已有新回复，请登录控制台查看。",
        "您的发票申请已受理，电子发票将发送至您的邮箱。",
        "您的SSL证书（{domain}）将于{deadline}过期，请及时续费。",
        "账户余额不足{price}元，为避免服务停止请尽快充值。",
    ),
}

NEXT_STEPS: dict[str, tuple[str, ...]] = {
    "provider_new_domain": (
        "网站可在审核通过后正常访问，信息同步可能有数小时延迟。",
        "请在网站底部悬挂新的备案号。",
        "您可登录{console}查看详情。",
        "",
    ),
    "provider_modify_domain": (
        "变更后的信息将在24小时内同步至工信部系统。",
        "您可登录{console}查看变更结果。",
        "",
    ),
    "provider_access_domain": (
        "请在网站底部悬挂备案号并确保解析指向{alias}服务器。",
        "您可以正常使用服务器提供网站服务了。",
        "您可登录{console}查看详情。",
        "",
    ),
    "provider_access_cancelled": (
        "如网站仍需访问，请尽快在新的接入商办理接入备案，否则备案号可能被注销。",
        "如有疑问请联系{alias}客服。",
        "若非本人操作，请及时联系我们。",
        "",
    ),
    "first_filing_approved": ("请在网站底部悬挂备案号。", "请登录{console}查看备案详情。", ""),
    "progress": ("请耐心等待。", "审核结果将以短信和邮件通知您。", ""),
    "rejected": ("请登录{console}修改后重新提交。", "如有疑问请联系备案客服。", ""),
    "filing_cancelled": ("如需继续开办网站，请重新办理备案。", ""),
    "shell_site_warning": ("请登录{console}办理。", ""),
    "check_request": ("请登录{console}处理。", "如已处理请忽略。", ""),
    "footer_reminder": ("感谢您的配合。", ""),
    "unrelated_access": ("如需帮助请查看产品文档。", ""),
    "registrar_transfer": ("", "如有疑问请联系客服。"),
    "public_security": ("", "请妥善保管备案编号。"),
    "marketing": ("", "回T退订"),
    "unrelated": ("", "如有疑问请联系客服。"),
}

SMS_GREETINGS = (
    "尊敬的用户：",
    "尊敬的用户，您好！",
    "尊敬的{alias}用户，",
    "您好，",
    "",
    "",
    "{name}您好：",
    "亲爱的用户，",
    "尊敬的客户{name}：",
)
EMAIL_GREETINGS = (
    "尊敬的{alias}用户：",
    "尊敬的用户，您好：",
    "您好，{name}：",
    "尊敬的{name}：",
    "亲爱的用户：",
)
EMAIL_CLOSINGS = (
    "此邮件由系统自动发送，请勿直接回复。\n{team}\n{date}",
    "如有疑问，请提交工单或联系客服。\n\n{team}",
    "感谢您对{alias}的支持！\n{team}\n{date}",
    "{team}\n（本邮件为系统邮件，请勿回复）",
    "祝您工作顺利！\n{alias}",
)
SUBJECTS: dict[str, tuple[str, ...]] = {
    "provider_new_domain": (
        "【{alias}】新增网站备案审核通过通知",
        "您的新增网站备案已通过管局审核",
        "备案成功通知（新增网站）",
    ),
    "provider_modify_domain": (
        "【{alias}】变更备案审核通过通知",
        "您的变更备案已通过",
        "备案变更成功通知",
    ),
    "provider_access_domain": (
        "【{alias}】接入备案审核通过通知",
        "您的网站已成功接入{alias}",
        "接入备案成功通知",
    ),
    "provider_access_cancelled": (
        "【{alias}】取消接入完成通知",
        "您的网站已取消接入",
        "取消接入通知",
    ),
    "first_filing_approved": (
        "【{alias}】首次备案审核通过",
        "恭喜，您的ICP备案已通过",
        "备案成功通知",
    ),
    "progress": ("备案进度通知", "【{alias}】您的备案已提交管局审核", "备案初审通过"),
    "rejected": ("备案退回通知", "【{alias}】您的备案订单被驳回", "备案审核未通过"),
    "filing_cancelled": ("备案注销通知", "【{alias}】注销备案完成"),
    "shell_site_warning": ("空壳网站处理通知", "【{alias}】关于空壳备案的提醒"),
    "check_request": ("【{alias}】备案信息核查通知", "关于开展备案信息核查的通知", "备案整改通知"),
    "footer_reminder": ("请在网站底部悬挂备案号", "【{alias}】备案号悬挂提醒"),
    "unrelated_access": ("【{alias}】CDN域名接入成功", "Web应用防火墙接入通知", "安全产品状态变更"),
    "registrar_transfer": ("域名转入成功通知", "【{alias}】域名转移通知"),
    "public_security": ("公安备案审核结果通知", "网站公安备案通过"),
    "marketing": ("【{alias}】备案季特惠来袭", "限时优惠：云服务器低至{price}元"),
    "unrelated": ("【{alias}】资源到期提醒", "账户安全提醒", "工单回复通知"),
}
OPT_OUTS = ("回T退订", "回TD退订", "拒收请回复R", "退订回T", "回N退订")

PHISH_HOSTS = (
    "beian-miit.top",
    "miit-icp.cc",
    "icp-verify.xyz",
    "beian-gov.vip",
    "gxb-beian.site",
    "icp-check.info",
    "miitbeian-cn.com",
    "s.example-short.cn",
)
MARKETING_HOSTS = ("t.example-promo.cn", "go.example-cloud.cn", "u.example-sale.com")


def fill(rng: R, template: str, v: dict[str, str]) -> str:
    extra = {
        "cname": f"{v['domain'].split('.')[0]}.cdn.example-dns.net",
        "murl": f"https://{pick(rng, MARKETING_HOSTS)}/{rng.randrange(10**5, 10**6):x}",
    }
    return template.format(**v, **extra)


# --------------------------------------------------------------------------- surface layers

HALF = str.maketrans(
    {"，": ",", "。": ".", "：": ":", "；": ";", "（": "(", "）": ")", "！": "!", "？": "?"}
)
TRAD = str.maketrans(
    {
        "备": "備",
        "变": "變",
        "网": "網",
        "务": "務",
        "户": "戶",
        "请": "請",
        "询": "詢",
        "详": "詳",
        "应": "應",
        "审": "審",
        "过": "過",
        "号": "號",
        "经": "經",
        "时": "時",
        "间": "間",
        "验": "驗",
        "证": "證",
        "码": "碼",
        "为": "為",
        "发": "發",
        "问": "問",
        "题": "題",
        "联": "聯",
        "云": "雲",
        "腾": "騰",
        "讯": "訊",
        "华": "華",
        "将": "將",
        "无": "無",
        "访": "訪",
        "们": "們",
        "该": "該",
        "对": "對",
        "这": "這",
        "处": "處",
        "理": "理",
        "录": "錄",
        "台": "臺",
        "后": "後",
        "关": "關",
        "于": "於",
        "个": "個",
        "体": "體",
        "负": "負",
        "责": "責",
        "动": "動",
        "达": "達",
        "导": "導",
        "万": "萬",
        "东": "東",
        "国": "國",
        "门": "門",
        "长": "長",
        "线": "線",
        "级": "級",
        "状": "狀",
        "态": "態",
        "钟": "鐘",
        "内": "內",
        "报": "報",
        "来": "來",
        "设": "設",
        "专": "專",
    }
)
TYPOS = (
    ("备案", "北岸"),
    ("备案", "备按"),
    ("接入", "接人"),
    ("变更", "变跟"),
    ("审核", "审合"),
    ("服务", "服物"),
    ("咨询", "资询"),
    ("提供商", "提供尚"),
    ("通过", "通知过"),
)


def punctuate(rng: R, text: str) -> str:
    r = rng.random()
    if r < 0.12:
        return text.translate(HALF)
    if r < 0.20:
        return "".join(ch for ch in text if ch not in "，。" or rng.random() < 0.4)
    if r < 0.26:
        return text.replace("，", ",", rng.randrange(1, 3))
    return text


def add_noise(rng: R, text: str) -> str:
    if rng.random() < 0.1:
        text = _noise_once(rng, text)
    return _noise_once(rng, text)


def _noise_once(rng: R, text: str) -> str:
    r = rng.random()
    if r < 0.07:
        old, new = pick(rng, TYPOS)
        if old in text:
            text = text.replace(old, new, 1)
    elif r < 0.13:
        text = text.translate(TRAD)
    elif r < 0.20:
        chars = list(text)
        for _ in range(rng.randrange(1, 4)):
            pos = rng.randrange(1, max(2, len(chars)))
            chars.insert(pos, rng.choice([" ", "  ", " "]))
        text = "".join(chars)
    elif r < 0.25:
        pos = rng.randrange(len(text) // 3, max(len(text) // 3 + 1, 2 * len(text) // 3))
        text = text[:pos] + "\n" + text[pos:]
    elif r < 0.28:
        text = "  " + text + " \n"
    return text


def smsforwarder(rng: R, sender: str, sms: str, at: dt.datetime) -> str:
    received = at + dt.timedelta(seconds=rng.randrange(1, 40))
    sim = f"SIM{rng.choice([1, 1, 2])}_{pick(rng, CARRIERS)}_1{rng.choice('3578')}{rng.randrange(10)}****{rng.randrange(10**4):04d}"
    lines = [
        sender,
        sms,
        sim,
        f"SubId：{rng.choice([1, 1, 2, 3])}",
        received.strftime("%Y-%m-%d %H:%M:%S"),
        pick(rng, DEVICES),
    ]
    if rng.random() < 0.3:
        lines[0] = f"【{sender}】" if rng.random() < 0.5 else f"{sender}："
    return "\n".join(lines)


def json_wrapper(rng: R, sender: str, sms: str, at: dt.datetime) -> str:
    ms = int(at.timestamp() * 1000)
    r = rng.random()
    obj: dict[str, Any]
    if r < 0.4:
        obj = {"from": sender, "content": sms, "timestamp": str(ms)}
    elif r < 0.7:
        obj = {
            "event": "sms:received",
            "payload": {
                "message": sms,
                "phoneNumber": sender,
                "receivedAt": at.isoformat(timespec="milliseconds"),
            },
        }
    else:
        obj = {rng.choice(["sender", "from"]): sender, rng.choice(["text", "body", "message"]): sms}
    return json.dumps(obj, ensure_ascii=False, indent=rng.choice([None, None, 2]))


def wrap_sms(
    rng: R, sender: str, sms: str, at: dt.datetime, rate: float = 0.16
) -> tuple[str, str | None]:
    """Return (text, sender as the record knows it)."""
    r = rng.random()
    if r < rate * 0.65:
        return smsforwarder(rng, sender, sms, at), rng.choice([sender, None])
    if r < rate:
        return json_wrapper(rng, sender, sms, at), rng.choice([sender, None])
    if r < rate + 0.05:
        return user_paste(rng, sender, sms), None
    return sms, sender


PASTES = (
    "刚收到这条短信，是什么意思？\n{sms}",
    "收到{sender}发来的短信：{sms}",
    "今天收到：「{sms}」",
    "{sms}\n—— 来自{sender}的短信，帮忙看下",
    "[短信] {sender}: {sms}",
    "转发短信\n发件人：{sender}\n内容：{sms}",
)


def user_paste(rng: R, sender: str, sms: str) -> str:
    """A user (or a chat app) pasting the SMS with a remark around it."""
    return pick(rng, PASTES).format(sms=sms, sender=sender)


def forward_email(rng: R, sender: str, subject: str, body: str, at: dt.datetime) -> tuple[str, str]:
    me = f"{pick(rng, SYLLABLES)}{rng.randrange(100, 999)}@{ascii_domain(rng)}"
    if rng.random() < 0.5:
        head = (
            f"---------- Forwarded message ---------\nFrom: <{sender}>\n"
            f"Date: {at.strftime('%Y年%m月%d日 %H:%M')}\nSubject: {subject}\nTo: <{me}>\n\n"
        )
        fwd_subject = f"Fwd: {subject}"
    else:
        head = (
            f'------------------ 原始邮件 ------------------\n发件人: "{sender}"<{sender}>;\n'
            f'发送时间: {at.strftime("%Y年%m月%d日(星期%w) %H:%M")}\n收件人: "{me}"<{me}>;\n主题: {subject}\n\n'
        )
        fwd_subject = f"{rng.choice(['Fwd', '转发', 'FW'])}: {subject}"
    remark = rng.choice(["", "", "老板看下这个：\n\n", "请帮忙确认一下这封邮件\n\n", "FYI\n\n"])
    return remark + head + body, fwd_subject


# --------------------------------------------------------------------------- record builders

Rec = dict[str, Any]


def record(  # noqa: PLR0917 - one positional per record field keeps call sites short
    text: str,
    channel: str,
    sender: str | None,
    at: dt.datetime | None,
    kind: str,
    situation: str | None,
    *,
    subject: str | None = None,
    context: dict[str, Any] | None = None,
    candidates: list[str] | None = None,
    note: str = "",
) -> Rec:
    ambiguous = situation is None
    return {
        "text": text,
        "subject": subject,
        "channel": channel,
        "sender": sender,
        "received_at": at.isoformat() if at is not None else None,
        "context": context,
        "situation": situation,
        "kind": kind,
        "ambiguous": ambiguous,
        "candidates": candidates if ambiguous else [situation],
        "note": note,
    }


def provider_sms_text(rng: R, kind: str, prov: Provider, v: dict[str, str]) -> str:
    body = fill(rng, pick(rng, BODIES[kind]), v)
    greeting = fill(rng, pick(rng, SMS_GREETINGS), v)
    nxt = fill(rng, pick(rng, NEXT_STEPS[kind]), v) if rng.random() < 0.55 else ""
    text = greeting + body + nxt
    sign = f"【{v['alias']}】"
    r = rng.random()
    if r < 0.6:
        text = sign + text
    elif r < 0.9:
        text = text + sign
    if (kind in {"marketing", "unrelated"} or rng.random() < 0.15) and "退订" not in text:
        text += pick(rng, OPT_OUTS)
    return text


def provider_email(rng: R, kind: str, prov: Provider, v: dict[str, str]) -> tuple[str, str]:
    body = fill(rng, pick(rng, BODIES[kind]), v)
    nxt = fill(rng, pick(rng, NEXT_STEPS[kind]), v)
    greeting = fill(rng, pick(rng, EMAIL_GREETINGS), v)
    closing = fill(rng, pick(rng, EMAIL_CLOSINGS), v)
    if rng.random() < 0.4:
        body = body.replace("。", "。\n", 1).rstrip("\n")
    if rng.random() < 0.12:  # provider notices are often HTML-only
        closing_html = closing.replace("\n", "<br>")
        text = (
            f'<html><body><div style="font-size:14px"><p>{greeting}</p>'
            f"<p>{body.replace(chr(10), '')}{nxt}</p><p>{closing_html}</p></div></body></html>"
        )
    else:
        text = f"{greeting}\n\n{body}{nxt}\n\n{closing}"
    subject = fill(rng, pick(rng, SUBJECTS[kind]), v)
    return text, subject


def build_provider(rng: R, kind: str, situation: str) -> Rec:
    prov = pick(rng, PROVIDERS)
    at = when(rng)
    v = values(rng, prov, at)
    if rng.random() < 0.7:
        sms = provider_sms_text(rng, kind, prov, v)
        sms = add_noise(rng, punctuate(rng, sms))
        sender = pick(rng, prov.senders())
        text, rec_sender = wrap_sms(rng, sender, sms, at)
        return record(
            text,
            "sms",
            rec_sender,
            at if rng.random() < 0.9 else None,
            kind,
            situation,
            note=f"{prov.name} SMS: {kind}",
        )
    body, subject = provider_email(rng, kind, prov, v)
    body = add_noise(rng, punctuate(rng, body)) if rng.random() < 0.5 else body
    sender = prov.email(rng)
    if rng.random() < 0.15:
        body, subject = forward_email(rng, sender, subject, body, at)
        sender = None
    return record(
        body,
        "email",
        sender,
        at if rng.random() < 0.9 else None,
        kind,
        situation,
        subject=subject,
        note=f"{prov.name} email: {kind}",
    )


GENERIC = "尊敬的用户{name}，您的备案信息已被变更，详情请咨询您的接入服务提供商。"


def generic_sms(rng: R, v: dict[str, str]) -> str:
    text = GENERIC.format(name=v["name"])
    r = rng.random()
    if r < 0.25:
        text = "【工信部】" + text
    elif r < 0.32:
        text = "【工业和信息化部】" + text
    elif r < 0.36:
        text = text + "【工信部】"
    if rng.random() < 0.25:
        text += rng.choice(["", " "]) + v["icpx"]
    return add_noise(rng, punctuate(rng, text))


def generic_record(
    rng: R,
    at: dt.datetime,
    *,
    context: dict[str, Any] | None,
    situation: str | None,
    candidates: list[str] | None,
    note: str,
) -> Rec:
    prov = pick(rng, PROVIDERS)
    v = values(rng, prov, at)
    if rng.random() < 0.75:
        sms = generic_sms(rng, v)
        text, sender = wrap_sms(rng, MIIT_SMS, sms, at, rate=0.2)
        if sender is not None and rng.random() < 0.05:
            sender = None
        return record(
            text,
            "sms",
            sender,
            at,
            "change_notice_generic",
            situation,
            context=context,
            candidates=candidates,
            note=note,
        )
    sentence = punctuate(rng, GENERIC.format(name=v["name"]))
    tail = rng.choice(
        [
            "",
            "",
            f"\n\n工业和信息化部ICP/IP地址/域名信息备案管理系统\n{v['date']}",
            "\n\n（此邮件由系统自动发出，请勿回复）",
            f"\n\n备案号：{v['icpx']}",
        ]
    )
    body = add_noise(rng, sentence + tail) if rng.random() < 0.4 else sentence + tail
    subject = rng.choice(
        [
            "备案信息变更通知",
            "ICP备案信息变更通知",
            "关于您的备案信息变更的通知",
            "【工信部】备案信息变更",
        ]
    )
    sender: str | None = rng.choice(["noreply@beian.miit.example.gov.cn", None])
    if rng.random() < 0.2:
        body, subject = forward_email(rng, sender or "beian@miit.example.gov.cn", subject, body, at)
        sender = None
    return record(
        body,
        "email",
        sender,
        at,
        "change_notice_generic",
        situation,
        subject=subject,
        context=context,
        candidates=candidates,
        note=note,
    )


def build_generic(rng: R) -> Rec:
    rec = generic_record(
        rng,
        when(rng),
        context=None,
        situation=None,
        candidates=list(ALL4),
        note="generic MIIT notice without context: any of the four",
    )
    if rng.random() < 0.08:
        rec["received_at"] = None
    return rec


def build_verification(rng: R) -> Rec:
    prov = pick(rng, PROVIDERS)
    at = when(rng)
    v = values(rng, prov, at)
    miit = (
        "【工信部ICP备案】您的验证码为{code}，由{alias}发起的{domain}网站的{optype}已提交，请在24小时内登录https://beian.miit.gov.cn完成短信核验。",
        "【工信部ICP备案】验证码：{code}。{name}您好，{alias}为您提交的{domain}{optype}申请需短信核验，24小时内有效。",
        "【ICP备案】您正在办理{domain}的{optype}，核验码{code}，请于24小时内在https://beian.miit.gov.cn输入完成核验。",
        "【工信部】短信核验码{code}，由{alias}发起的网站{domain}的{optype}已提交，请24小时内完成核验。",
    )
    prov_texts = (
        "您正在办理{optype}，验证码{code}，5分钟内有效，请勿泄露给他人。",
        "备案核验码：{code}，您正在为{domain}提交{optype}，如非本人操作请忽略。",
        "您的{optype}申请需要手机验证，验证码为{code}，10分钟内有效。",
    )
    if rng.random() < 0.6:
        sms = fill(rng, pick(rng, miit), v)
        sender = MIIT_SMS
        note = f"MIIT verification SMS naming {v['optype']}: a code, not a change notice"
    else:
        sms = f"【{v['alias']}】" + fill(rng, pick(rng, prov_texts), v)
        sender = pick(rng, prov.senders())
        note = f"{prov.name} verification code naming {v['optype']}"
    sms = add_noise(rng, punctuate(rng, sms))
    text, rec_sender = wrap_sms(rng, sender, sms, at)
    return record(text, "sms", rec_sender, at, "verification_code", "other", note=note)


def build_phishing(rng: R) -> Rec:
    prov = pick(rng, PROVIDERS)
    at = when(rng)
    v = values(rng, prov, at)
    url = f"{rng.choice(['http', 'https'])}://{pick(rng, PHISH_HOSTS)}/{rng.randrange(16**4, 16**6):x}"
    texts = (
        GENERIC.format(name=v["name"]) + "{url}",
        GENERIC.format(name=v["name"]).rstrip("。") + "，或点击 {url} 查看详情。",
        GENERIC.format(name=v["name"]) + "查看详情：{url}",
        "【工信部】您的网站备案即将被注销，请于24小时内点击{url}重新核验。",
        "您的ICP备案{icpx}存在异常，网站将于今日关闭，请立即登录{url}处理。",
        "【工信部】尊敬的用户{name}，您的备案信息已被变更，如非本人操作请点击{url}申诉。",
        "您的备案信息未通过年审，请在{url}补交材料，逾期将取消接入。",
    )
    sms = pick(rng, texts).replace("{url}", url)
    sms = fill(
        rng,
        sms.replace("{", "{{")
        .replace("}", "}}")
        .replace("{{name}}", "{name}")
        .replace("{{icpx}}", "{icpx}"),
        v,
    )
    sms = punctuate(rng, sms)
    sender = rng.choice(
        [
            f"+86{rng.randrange(13 * 10**9, 19 * 10**9)}",
            f"1069{rng.randrange(10**7, 10**8)}",
            "12381",
            f"{rng.randrange(10**10, 10**11)}",
        ]
    )
    if rng.random() < 0.2:
        subject = rng.choice(["备案信息变更通知", "【紧急】ICP备案异常", "工信部通知"])
        return record(
            sms,
            "email",
            f"admin@{pick(rng, PHISH_HOSTS)}",
            at,
            "phishing",
            "other",
            subject=subject,
            note="phishing: a filing notice with a link (the real one has none)",
        )
    text, rec_sender = wrap_sms(rng, sender, sms, at)
    return record(
        text,
        "sms",
        rec_sender,
        at,
        "phishing",
        "other",
        note="phishing: a filing notice with a link (the real one has none)",
    )


ANTI_FRAUD = (
    "【12381涉诈预警劝阻短信】您的号码近期接到了疑似诈骗电话，请提高警惕，切勿向陌生账户转账汇款。",
    "【工信部反诈专班】提醒您：凡是自称客服要求您操作备案注销、下载会议软件的都是诈骗。",
    "【12381】国家反诈提醒：冒充“工信部备案中心”要求您点击链接重新核验备案的，都是诈骗！",
    "【12381涉诈预警】您近期可能接到冒充平台客服的电话，请勿透露验证码，谨防诈骗。",
    "【工信部反诈中心】近期有不法分子冒充接入服务提供商发送“备案信息变更”链接，请勿点击。",
    "【国家反诈中心】警惕冒充公检法、冒充客服退款等诈骗，如有疑问请拨打96110咨询。",
)


def build_anti_fraud(rng: R) -> Rec:
    at = when(rng)
    sms = pick(rng, ANTI_FRAUD)
    name = person(rng)
    if rng.random() < 0.5:
        sms = sms.replace("】", f"】尊敬的{name}，", 1)
    if rng.random() < 0.4:
        sms += rng.choice(["回T退订", "", f"（{cn_date(at)}）", "【12381】"])
    sms = add_noise(rng, punctuate(rng, sms))
    text, sender = wrap_sms(rng, rng.choice([MIIT_SMS, MIIT_SMS, "96110"]), sms, at)
    return record(
        text,
        "sms",
        sender,
        at,
        "anti_fraud",
        "other",
        note="national anti-fraud warning, not a filing notice",
    )


UNRELATED_SMS = (
    "【{bank}】您尾号{tail}的账户{date}支出人民币{amount}元，余额{amount2}元。",
    "【菜鸟驿站】您的快递已到{place}，取件码{code}，请尽快取件。",
    "【{bank}】验证码{code}，您正在进行登录操作，切勿告知他人。",
    "您好，您预约的{place}体检已确认，时间{date}上午，请空腹前往。",
    "【物业通知】{place}小区明日9:00-12:00停水，请提前储水。",
    "【12306】订单{order}，您已购{date}车票，请携带证件乘车。",
)
BANKS = ("示例银行", "星河银行", "远山农商行", "某某银行")
PLACES = ("幸福里", "东门驿站", "阳光花园", "市中心医院", "南区3号楼")


def build_unrelated_misc(rng: R) -> Rec:
    at = when(rng)
    v = {
        "bank": pick(rng, BANKS),
        "tail": f"{rng.randrange(10**4):04d}",
        "date": cn_date(at),
        "amount": f"{rng.randrange(1, 9999)}.{rng.randrange(100):02d}",
        "amount2": f"{rng.randrange(1, 99999)}.{rng.randrange(100):02d}",
        "place": pick(rng, PLACES),
        "code": f"{rng.randrange(10**6):06d}",
        "order": f"E{rng.randrange(10**9)}",
    }
    sms = add_noise(rng, pick(rng, UNRELATED_SMS).format(**v))
    sender = f"106{rng.randrange(10**9, 10**10)}"
    text, s = wrap_sms(rng, sender, sms, at)
    return record(text, "sms", s, at, "unrelated", "other", note="unrelated SMS")


# --------------------------------------------------------------------------- context cases


def iso(t: dt.datetime) -> str:
    return t.isoformat()


def op(
    kind: str,
    at: dt.datetime,
    rng: R,
    *,
    provider: str | None = None,
    from_provider: str | None = None,
    domain_name: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "submitted_at": iso(at.replace(microsecond=0))}
    if rng.random() < 0.8 or domain_name:
        out["domain"] = domain_name or domain(rng)
    if provider is not None:
        out["provider"] = provider
    elif rng.random() < 0.5:
        out["provider"] = pick(rng, PROVIDERS).name
    if from_provider is not None:
        out["from_provider"] = from_provider
    return out


def ago(t: dt.datetime, days: float) -> dt.datetime:
    return (t - dt.timedelta(days=days)).replace(microsecond=0)


def prior_generic(rng: R, at: dt.datetime) -> dict[str, Any]:
    return {
        "text": GENERIC.format(name=recipient(rng)),
        "received_at": iso(at),
        "sender": MIIT_SMS,
        "channel": "sms",
    }


def prior_provider(
    rng: R, kind: str, prov: Provider, at: dt.datetime, dom: str | None = None
) -> dict[str, Any]:
    v = values(rng, prov, at)
    if dom:
        v["domain"] = dom
    v["alias"] = prov.aliases[0]
    body = fill(rng, pick(rng, BODIES[kind]), v)
    return {
        "text": f"【{prov.aliases[0]}】{body}",
        "received_at": iso(at),
        "sender": prov.senders()[0],
        "channel": "sms",
    }


def prior_code(rng: R, at: dt.datetime, optype: str, dom: str, prov: Provider) -> dict[str, Any]:
    code = f"{rng.randrange(10**6):06d}"
    text = f"【工信部ICP备案】您的验证码为{code}，由{prov.aliases[0]}发起的{dom}网站的{optype}已提交，请在24小时内完成短信核验。"
    return {"text": text, "received_at": iso(at), "sender": MIIT_SMS, "channel": "sms"}


OPTYPE_OF = {"new_domain": "新增网站", "modify_domain": "变更备案", "access_domain": "接入备案"}
KIND_OF = {
    "new_domain": "provider_new_domain",
    "modify_domain": "provider_modify_domain",
    "access_domain": "provider_access_domain",
    "access_cancelled": "provider_access_cancelled",
}


def ctx(ops: list[dict[str, Any]], prev: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    ops = sorted(ops, key=lambda o: str(o["submitted_at"]))
    prev = sorted(prev or [], key=lambda p: str(p["received_at"]))
    return {"operations": ops, "previous_notices": prev}


def other_provider(rng: R, prov: Provider) -> Provider:
    choices = [p for p in PROVIDERS if p != prov]
    return pick(rng, choices)


def c_single_kind(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    k = pick(rng, OPS3)
    ops = [op(k, ago(t, rng.uniform(1.2, 19.5)), rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    extra = ""
    r = rng.random()
    if r < 0.2:
        ops.append(
            op(pick(rng, ["new_domain", "modify_domain"]), ago(t, rng.uniform(61, 300)), rng)
        )
        extra = "; an older operation (>60 days) does not count"
    elif r < 0.4:
        p = pick(rng, PROVIDERS)
        ops.append(
            op(
                "access_domain",
                ago(t, rng.uniform(61, 300)),
                rng,
                provider=p.name,
                from_provider=other_provider(rng, p).name,
            )
        )
        extra = "; an older move of provider does not matter while a recent operation explains the notice"
    return ctx(ops), k, [k], f"ctx:single_kind — unused {k} operation(s) 1–20 days before{extra}"


def c_too_recent(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    a = pick(rng, ["new_domain", "modify_domain"])
    recent = op(a, ago(t, rng.uniform(0.05, 0.95)), rng)
    if rng.random() < 0.45:
        return (
            ctx([recent]),
            None,
            list(ALL4),
            f"ctx:too_recent — the only operation ({a}) was submitted under a day before the notice: nothing explains it",
        )
    b = pick(rng, [k for k in OPS3 if k != a])
    valid = op(b, ago(t, rng.uniform(1.5, 15)), rng)
    return (
        ctx([recent, valid]),
        b,
        [b],
        f"ctx:too_recent — the {a} operation under a day old cannot explain it; the valid {b} operation decides",
    )


def c_after(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    a = pick(rng, OPS3)
    later = op(a, t + dt.timedelta(days=rng.uniform(0.05, 3)), rng)
    if rng.random() < 0.4:
        return (
            ctx([later]),
            None,
            list(ALL4),
            f"ctx:after_notice — the only operation ({a}) was submitted after the notice: nothing explains it",
        )
    b = pick(rng, [k for k in OPS3 if k != a])
    valid = op(b, ago(t, rng.uniform(1.5, 15)), rng)
    return (
        ctx([later, valid]),
        b,
        [b],
        f"ctx:after_notice — the {a} operation after the notice is ignored; the valid {b} operation decides",
    )


def c_used(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    b = pick(rng, OPS3)
    if rng.random() < 0.6:
        a = pick(rng, [k for k in ("new_domain", "modify_domain") if k != b])
        a2 = rng.uniform(2.0, 6.0)  # age of op b
        p = rng.uniform(a2 + 0.3, a2 + 3.0)  # earlier generic notice, before op b was submitted
        a1 = rng.uniform(p + 1.5, p + 10)  # op a, valid for that earlier notice
        ops = [op(a, ago(t, a1), rng), op(b, ago(t, a2), rng)]
        prev = [prior_generic(rng, ago(t, p))]
        note = f"ctx:used_by_previous — an earlier generic notice used up the older {a} operation; the {b} operation is left"
    else:
        a = pick(rng, ["new_domain", "modify_domain"])
        c = pick(rng, ["new_domain", "modify_domain"])
        a3 = rng.uniform(2.0, 4.0)
        p2 = rng.uniform(a3 + 0.3, a3 + 2.0)
        a2 = rng.uniform(p2 + 1.2, p2 + 3.0)
        p1 = rng.uniform(a2 + 0.3, a2 + 2.0)
        a1 = rng.uniform(p1 + 1.2, p1 + 5.0)
        ops = [op(a, ago(t, a1), rng), op(c, ago(t, a2), rng), op(b, ago(t, a3), rng)]
        prev = [prior_generic(rng, ago(t, p1)), prior_generic(rng, ago(t, p2))]
        note = f"ctx:used_by_previous — two earlier generic notices used up the {a} and {c} operations in time order; the {b} operation is left"
    return ctx(ops, prev), b, [b], note


def c_all_used(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    n = rng.choice([1, 2])
    ops: list[dict[str, Any]] = []
    prev: list[dict[str, Any]] = []
    age = rng.uniform(1.5, 4.0)
    for _ in range(n):
        p = age
        a = rng.uniform(p + 1.3, p + 4.0)
        ops.append(op(pick(rng, ["new_domain", "modify_domain"]), ago(t, a), rng))
        prev.append(prior_generic(rng, ago(t, p)))
        age = a + rng.uniform(0.3, 2.0)
    return (
        ctx(ops, prev),
        None,
        list(ALL4),
        "ctx:all_used — earlier generic notices used up every operation: nothing explains this one",
    )


def c_progress(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    k = pick(rng, OPS3)
    prov = pick(rng, PROVIDERS)
    dom = domain(rng)
    a = rng.uniform(3.0, 18.0)
    ops = [op(k, ago(t, a), rng, provider=prov.name, domain_name=dom)]
    prev = [prior_code(rng, ago(t, a - rng.uniform(0.01, 0.3)), OPTYPE_OF[k], dom, prov)]
    if rng.random() < 0.7:
        v = values(rng, prov, t)
        body = fill(rng, pick(rng, BODIES["progress"]), v | {"domain": dom, "optype": OPTYPE_OF[k]})
        prev.append(
            {
                "text": f"【{prov.aliases[0]}】{body}",
                "received_at": iso(ago(t, rng.uniform(0.5, a - 0.5))),
                "sender": prov.senders()[0],
                "channel": "sms",
            }
        )
    return (
        ctx(ops, prev),
        k,
        [k],
        f"ctx:progress_uses_nothing — verification code / progress notices use nothing up; the {k} operation decides",
    )


def c_confirmed(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    new = pick(rng, PROVIDERS)
    old = other_provider(rng, new)
    dom = domain(rng)
    a = rng.uniform(3.0, 18.0)
    frm = old.name if rng.random() < 0.7 else None
    ops = [
        op("access_domain", ago(t, a), rng, provider=new.name, from_provider=frm, domain_name=dom)
    ]
    # more than a day before the notice: a generic notice within a day of the provider's
    # notice would be MIIT's notice of the same approval (rule same_approval)
    prev = [
        prior_provider(rng, "provider_access_domain", new, ago(t, rng.uniform(1.5, a - 1.0)), dom)
    ]
    if rng.random() < 0.4:
        prev.append(prior_code(rng, ago(t, a - 0.05), "接入备案", dom, new))
    return (
        ctx(ops, prev),
        "access_cancelled",
        ["access_cancelled"],
        (
            f"ctx:confirmed_access_then_generic — {new.name} already confirmed the access filing; this generic notice is the old provider's cancellation"
        ),
    )


def c_late(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    new = pick(rng, PROVIDERS)
    old = other_provider(rng, new)
    dom = domain(rng)
    a = rng.uniform(61, 300)
    if rng.random() < 0.65:
        ops = [
            op(
                "access_domain",
                ago(t, a),
                rng,
                provider=new.name,
                from_provider=old.name,
                domain_name=dom,
            )
        ]
        prev: list[dict[str, Any]] = []
        how = f"an access operation moving from {old.name} to {new.name}"
    else:
        ops = [op("access_domain", ago(t, a), rng, provider=new.name, domain_name=dom)]
        prev = [
            prior_provider(
                rng, "provider_access_domain", new, ago(t, a - rng.uniform(1.5, 10)), dom
            )
        ]
        how = f"an access operation at {new.name} confirmed by its access notice"
    if rng.random() < 0.3:
        ops.append(
            op(pick(rng, ["new_domain", "modify_domain"]), ago(t, rng.uniform(a + 5, a + 200)), rng)
        )
    return (
        ctx(ops, prev),
        "access_cancelled",
        ["access_cancelled"],
        (
            f"ctx:late_cancellation — no operation in 60 days, {how} {int(a)} days ago: the old provider's late cancellation"
        ),
    )


def c_mixed(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    kinds = rng.sample(OPS3, rng.choice([2, 2, 3]))
    ops = [op(k, ago(t, rng.uniform(1.2, 19.5)), rng) for k in kinds]
    if rng.random() < 0.3:
        ops.append(op(pick(rng, kinds), ago(t, rng.uniform(1.2, 19.5)), rng))
    cands = [k for k in OPS3 if k in kinds]
    return (
        ctx(ops),
        None,
        cands,
        f"ctx:mixed_kinds — unused valid operations of {len(cands)} kinds: {', '.join(cands)}",
    )


def c_nothing(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    if rng.random() < 0.4:
        return ctx([]), None, list(ALL4), "ctx:nothing_explains — an empty context explains nothing"
    ops = [
        op(pick(rng, ["new_domain", "modify_domain"]), ago(t, rng.uniform(61, 400)), rng)
        for _ in range(rng.choice([1, 2]))
    ]
    return (
        ctx(ops),
        None,
        list(ALL4),
        "ctx:nothing_explains — only new/modify operations over 60 days old and no move of provider",
    )


def c_stale(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    ops = [
        op(pick(rng, ["new_domain", "modify_domain"]), ago(t, rng.uniform(21, 59)), rng)
        for _ in range(rng.choice([1, 1, 2]))
    ]
    kinds = [k for k in OPS3 if any(o["kind"] == k for o in ops)]
    if len(kinds) >= 2:
        return (
            ctx(ops),
            None,
            kinds,
            "ctx:stale_op — operations 21–60 days old cannot decide (outside 1–20 days) but"
            f" still narrow the candidates to {', '.join(kinds)}",
        )
    return (
        ctx(ops),
        None,
        list(ALL4),
        f"ctx:stale_op — one {kinds[0]} operation 21–60 days old cannot decide (outside 1–20 days);"
        " narrowing to one kind would decide, so all four stay",
    )


def c_completed_move(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    """Family 1 (issue 10): a move explained by an earlier generic notice, then nothing filed."""
    new = pick(rng, PROVIDERS)
    dom = domain(rng)
    a = rng.uniform(25, 200)
    explained = a - rng.uniform(2, 19)
    frm = other_provider(rng, new).name if rng.random() < 0.3 else None
    ops = [
        op("access_domain", ago(t, a), rng, provider=new.name, from_provider=frm, domain_name=dom)
    ]
    prev = [prior_generic(rng, ago(t, explained))]
    if rng.random() < 0.3:  # the new provider's own notice a few hours after MIIT's
        prev.append(
            prior_provider(rng, "provider_access_domain", new, ago(t, explained - 0.2), dom)
        )
    return (
        ctx(ops, prev),
        "access_cancelled",
        ["access_cancelled"],
        f"ctx:completed_move — the access operation at {new.name} was explained by the generic"
        f" notice {int(explained)} days ago; nothing filed since → the old provider's cancellation",
    )


def c_settled_move(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    """Family 2 (issue 10): an access operation over 60 days old that nothing explained."""
    new = pick(rng, PROVIDERS)
    a = rng.uniform(61, 300)
    access = op("access_domain", ago(t, a), rng, provider=new.name)
    if rng.random() < 0.3:
        access["keeps_previous_provider"] = True
        return (
            ctx([access]),
            None,
            list(ALL4),
            f"ctx:keeps_previous_provider — the access at {new.name} {int(a)} days ago added a"
            " second provider: no cancellation follows, nothing explains the notice",
        )
    return (
        ctx([access]),
        "access_cancelled",
        ["access_cancelled"],
        f"ctx:late_cancellation — an access operation at {new.name} {int(a)} days ago, nothing"
        " since: the 接入 was settled long ago; the old provider's late cancellation",
    )


def c_cancellation_due(rng: R, t: dt.datetime) -> tuple[dict[str, Any], str | None, list[str], str]:
    """Family 3 (issue 10): a recent move not yet cancelled and a pending operation."""
    new = pick(rng, PROVIDERS)
    dom = domain(rng)
    a = rng.uniform(30, 100)
    explained = a - rng.uniform(2, 12)
    k = pick(rng, ["new_domain", "modify_domain"])
    ops = [
        op("access_domain", ago(t, a), rng, provider=new.name, domain_name=dom),
        op(k, ago(t, rng.uniform(1.5, 14)), rng),
    ]
    return (
        ctx(ops, [prior_generic(rng, ago(t, explained))]),
        None,
        [k, "access_cancelled"],
        f"ctx:cancellation_due — the move to {new.name} took effect {int(explained)} days ago"
        f" without a cancellation yet; the pending {k} cannot decide alone",
    )


CONTEXT_CASES: dict[
    str, tuple[int, Callable[[R, dt.datetime], tuple[dict[str, Any], str | None, list[str], str]]]
] = {
    "ctx_single": (72, c_single_kind),
    "ctx_recent": (26, c_too_recent),
    "ctx_after": (16, c_after),
    "ctx_used": (28, c_used),
    "ctx_allused": (8, c_all_used),
    "ctx_progress": (18, c_progress),
    "ctx_confirmed": (32, c_confirmed),
    "ctx_late": (32, c_late),
    "ctx_mixed": (30, c_mixed),
    "ctx_nothing": (16, c_nothing),
    "ctx_stale": (8, c_stale),
}


def context_builder(
    fn: Callable[[R, dt.datetime], tuple[dict[str, Any], str | None, list[str], str]],
) -> Callable[[R], Rec]:
    def build(rng: R) -> Rec:
        t = when(rng)
        context, situation, cands, note = fn(rng, t)
        return generic_record(
            rng, t, context=context, situation=situation, candidates=cands, note=note
        )

    return build


def build_text_wins(rng: R) -> Rec:
    """An explicit notice whose context points elsewhere: the text decides."""
    t = when(rng)
    situation = pick(rng, [*ALL4, "other"])
    if situation == "other":
        rec = build_verification(rng)
        t = dt.datetime.fromisoformat(rec["received_at"])
        k = pick(rng, OPS3)
        rec["context"] = ctx([op(k, ago(t, rng.uniform(1.5, 15)), rng)])
        rec["note"] = (
            f"ctx:text_wins — a verification code stays other although an unused {k} operation is in context"
        )
        return rec
    rec = build_provider(rng, KIND_OF[situation], situation)
    if rec["received_at"] is None:
        rec["received_at"] = iso(t)
    t = dt.datetime.fromisoformat(rec["received_at"])
    k = pick(rng, [x for x in OPS3 if x != situation])
    rec["context"] = ctx([op(k, ago(t, rng.uniform(1.5, 15)), rng)])
    rec["note"] = (
        f"ctx:text_wins — the text says {situation}; the unused {k} operation in context does not override it"
    )
    return rec


# --------------------------------------------------------------------------- plan

PLAN: list[tuple[str, int, Callable[[R], Rec]]] = [
    ("generic", 150, build_generic),
    ("new", 105, lambda r: build_provider(r, "provider_new_domain", "new_domain")),
    ("modify", 105, lambda r: build_provider(r, "provider_modify_domain", "modify_domain")),
    ("access", 105, lambda r: build_provider(r, "provider_access_domain", "access_domain")),
    (
        "cancelled",
        110,
        lambda r: build_provider(r, "provider_access_cancelled", "access_cancelled"),
    ),
    *[(name, n, context_builder(fn)) for name, (n, fn) in CONTEXT_CASES.items()],
    ("text_wins", 18, build_text_wins),
    ("first", 45, lambda r: build_provider(r, "first_filing_approved", "other")),
    ("code", 70, build_verification),
    ("progress", 45, lambda r: build_provider(r, "progress", "other")),
    ("rejected", 40, lambda r: build_provider(r, "rejected", "other")),
    ("filing_cancelled", 30, lambda r: build_provider(r, "filing_cancelled", "other")),
    ("shell", 30, lambda r: build_provider(r, "shell_site_warning", "other")),
    ("check", 45, lambda r: build_provider(r, "check_request", "other")),
    ("footer", 28, lambda r: build_provider(r, "footer_reminder", "other")),
    ("cdn", 50, lambda r: build_provider(r, "unrelated_access", "other")),
    ("registrar", 30, lambda r: build_provider(r, "registrar_transfer", "other")),
    ("gongan", 25, lambda r: build_provider(r, "public_security", "other")),
    ("phishing", 55, build_phishing),
    ("antifraud", 25, build_anti_fraud),
    ("marketing", 30, lambda r: build_provider(r, "marketing", "other")),
    ("unrelated", 25, lambda r: build_provider(r, "unrelated", "other")),
    ("unrelated_misc", 20, build_unrelated_misc),
    # issue 10's three families (appended: the ids above stay)
    ("ctx_completed_move", 14, context_builder(c_completed_move)),
    ("ctx_settled_move", 12, context_builder(c_settled_move)),
    ("ctx_cancellation_due", 12, context_builder(c_cancellation_due)),
]


def existing_keys(output: Path) -> set[str]:
    """Text keys of every other corpus file, so generated texts never duplicate them."""
    keys: set[str] = set()
    for path in sorted(HERE.glob("*.jsonl")):
        if path.resolve() == output.resolve():
            continue
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    try:
                        keys.add(text_key(json.loads(line)["text"]))
                    except (ValueError, KeyError, TypeError):
                        continue  # check-corpus reports bad lines; here they only cannot collide
    return keys


def generate(output: Path = OUTPUT) -> list[Rec]:
    seen = existing_keys(output)
    out: list[Rec] = []
    slot = 0
    for section, count, build in PLAN:
        for i in range(count):
            slot += 1
            for attempt in range(60):
                rng = random.Random(f"{SEED}|{section}|{i}|{attempt}")
                rec = build(rng)
                key = text_key(rec["text"])
                if key not in seen:
                    seen.add(key)
                    rec = {"id": f"gen-{slot:05d}", "writer": "generator", **rec}
                    CorpusRecord.model_validate(rec)  # a generator bug fails loudly here
                    out.append(rec)
                    break
    return out


def dumps(records: list[Rec]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the output file is stale")
    args = parser.parse_args(argv)
    records = generate(args.output)
    text = dumps(records)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python corpus/generate.py", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date ({len(records)} records)")
        return 0
    args.output.write_text(text, encoding="utf-8")
    by_sit = Counter(r["situation"] or "ambiguous" for r in records)
    by_kind = Counter(r["kind"] for r in records)
    print(f"wrote {len(records)} records to {args.output}")
    print("situations:", dict(sorted(by_sit.items())))
    print("kinds:", dict(sorted(by_kind.items())))
    print("with context:", sum(r["context"] is not None for r in records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
