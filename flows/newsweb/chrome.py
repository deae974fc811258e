"""Per-template boilerplate strings: the junk real sites repeat on every page.

Kept apart from the markup so the truth (`template_blocks`) and the pages are
built from the very same strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import ArticleTruth, SiteRender
from .shapes import Shape


@dataclass(frozen=True)
class Chrome:
    related: str
    editors: str
    popular: str
    news_head: str
    news_text: str
    comment_head: str          # "" = template has no comment form
    comment_note: str
    back_to_top: str
    share: tuple[str, ...]
    copyright: str
    tagline: str


def chrome_for(shape: Shape) -> Chrome:
    s = shape.display
    t = shape.template
    if t == "harbor":
        return Chrome("Related articles", "Editor's choice", "Popular", "Newsletter Signup",
                      "Subscribe to our newsletter below and never miss the latest story or an exclusive offer.",
                      "Leave a Reply", "Your email address will not be published. Required fields are marked *",
                      "Back to top button", ("Share on Facebook", "Share on X", "Share via WhatsApp", "Copy link"),
                      f"Copyright \u00a9 2026 {s}. All rights reserved.", "Independent news from the harbour city")
    if t == "ledger":
        return Chrome("You may also like", "Editor's Picks", "Most Read", "Get the Ledger Daily",
                      "Sign up for our free morning briefing, delivered to your inbox every weekday at 7am.",
                      "Join the discussion", "Comments are moderated and will appear after approval. Please keep it civil.",
                      "Scroll to top", ("Facebook", "Twitter", "LinkedIn", "Email this story"),
                      f"\u00a9 {s} Media Group 2026. Reproduction without permission is prohibited.",
                      "News and views from the valley")
    if t == "courier":
        return Chrome("More from Metro Courier", "Featured", "Trending now", "Courier Briefing",
                      "The day's top stories in one email. Enter your address to subscribe; you can opt out at any time.",
                      "", "", "Return to top of page", ("Share this article", "Send by email", "Print this page"),
                      f"Copyright \u00a9 {s} 2026. All rights reserved. Terms of use apply.",
                      "Your city, every day")
    if t == "gazette":
        return Chrome("Read also", "Editor's choice", "Popular", "Newsletter",
                      "Subscribe to the North Gazette newsletter to receive our latest headlines and analysis.",
                      "Leave a comment", "You must be logged in to post a comment. Your email address will not be published.",
                      "Back to top", ("Share this story", "Tweet", "Pin it"),
                      f"Copyright \u00a9 {s}", "Northern news since 1921")
    if t == "dispatch":
        return Chrome("Related stories", "Editors' selection", "Popular this week", "Stay informed",
                      "Get Coastal Dispatch alerts and our weekend long read straight to your inbox. No spam, ever.",
                      "", "", "Jump to top", ("Share to Facebook", "Share to X", "Share on Telegram"),
                      f"\u00a9 2026 {s}. Content may not be republished without written consent.",
                      "Reporting from the coast and beyond")
    return Chrome("Related news", "Editor's choice", "Most popular", "Newsletter signup",
                  "Subscribe to our newsletter below and never miss the latest news, offers and announcements.",
                  "Post a comment", "Your email address will not be published. Comments violating our rules will be removed.",
                  "Back to top button", ("Share on Facebook", "Share on VK", "Share on X", "Print version"),
                  f"Copyright \u00a9 {s}. All rights reserved.", "The river towns' news service")


def chrome_blocks(shape: Shape, rd: SiteRender, arts: list[ArticleTruth]) -> list[str]:
    """All repeated junk text of one site, as `SiteTruth.template_blocks`.

    Real article titles are left out: they are legitimately the headline of
    their own page, which extractors may or may not return.
    """
    c = chrome_for(shape)
    out = [c.related, c.editors, c.popular, c.news_head, c.news_text, c.back_to_top,
           c.copyright, *c.share]
    if c.comment_head:
        out += [c.comment_head, c.comment_note]
    for head, para in rd.editors_choice:
        out += [head, para]
    out += rd.popular
    for head, paras in rd.big_teasers.values():
        out += [head, *paras]
    out += [a.summary for a in arts]
    return list(dict.fromkeys(out))
