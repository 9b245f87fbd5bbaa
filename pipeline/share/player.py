"""The player of the share pages: one stylesheet and one script, inline, no framework.

Both kinds of page (one reel, a channel's reels) are a column of ``section.reel``, one per
screen with CSS scroll snapping. The script plays the reel in view (muted until the sound
button is pressed: the autoplay rules of mobile browsers), pauses the others, toggles play and
pause on a tap, and loads the next reel's video as the current one comes into view
(IntersectionObserver, half a screen ahead). The Content-Security-Policy allows exactly these
two inline blocks by their hashes (``digest``).
"""

from __future__ import annotations

import base64
import hashlib

CSS = """\
html,body{margin:0;height:100%;background:#000;color:#fff;\
font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{height:100vh;height:100dvh;overflow-y:auto;scroll-snap-type:y mandatory;\
overscroll-behavior-y:contain;scrollbar-width:none}
main::-webkit-scrollbar{display:none}
.reel{position:relative;height:100vh;height:100dvh;scroll-snap-align:start;\
scroll-snap-stop:always;display:flex;align-items:center;justify-content:center;overflow:hidden}
.reel video{height:100%;max-width:100%;aspect-ratio:9/16;object-fit:contain;background:#000}
.info{position:absolute;left:0;right:0;bottom:0;padding:16px 76px 20px 16px;\
background:linear-gradient(transparent,rgba(0,0,0,.75));pointer-events:none}
.info a{color:#fff;pointer-events:auto}
.info h1,.info h2{margin:0 0 4px;font-size:1.1em}
.tags,.sources{margin:0;font-size:.85em;opacity:.85;overflow-wrap:anywhere}
.sources{padding:0;list-style:none}
.sources li{display:inline;margin-right:.6em}
.sound{position:absolute;right:14px;bottom:22px;width:50px;height:50px;border:0;\
border-radius:50%;background:rgba(0,0,0,.55);color:#fff;font-size:22px;cursor:pointer}
.sound::after{content:"\\266A"}
.muted .sound::before{content:"";position:absolute;left:11px;right:11px;top:23px;height:3px;\
background:#fff;box-shadow:0 0 0 1px rgba(0,0,0,.55);transform:rotate(-45deg)}
.paused::before{content:"\\25B6";position:absolute;top:50%;left:50%;z-index:1;\
transform:translate(-50%,-50%);font-size:64px;opacity:.8;pointer-events:none}
"""

JS = """\
(()=>{
const reels=[...document.querySelectorAll('.reel')];
const vid=r=>r.querySelector('video');
let muted=true;
const load=r=>{if(!r)return;const v=vid(r);\
if(!v.hasAttribute('src')){v.preload='auto';v.src=v.dataset.src;}};
const mark=r=>r.classList.toggle('paused',vid(r).paused);
const play=r=>{load(r);const v=vid(r);v.muted=muted;v.play().catch(()=>mark(r));};
for(const r of reels){
  const v=vid(r);
  v.addEventListener('play',()=>mark(r));
  v.addEventListener('pause',()=>mark(r));
  r.addEventListener('click',e=>{
    if(e.target.closest('a,button'))return;
    if(v.paused)play(r);else v.pause();
  });
  r.querySelector('.sound').addEventListener('click',e=>{
    e.preventDefault();e.stopPropagation();
    muted=!muted;
    for(const x of reels){vid(x).muted=muted;x.classList.toggle('muted',muted);\
x.querySelector('.sound').setAttribute('aria-pressed',String(!muted));}
    if(!muted&&v.paused)play(r);
  });
}
const ahead=new IntersectionObserver(es=>{for(const e of es){\
if(e.isIntersecting)load(e.target);}},{root:document.querySelector('main'),\
rootMargin:'0px 0px 50% 0px'});
const shown=new IntersectionObserver(es=>{for(const e of es){\
if(e.intersectionRatio>=0.6){document.body.dataset.current=e.target.id;play(e.target);}\
else if(!vid(e.target).paused)vid(e.target).pause();}},\
{root:document.querySelector('main'),threshold:[0,0.6]});
for(const r of reels){ahead.observe(r);shown.observe(r);}
})();
"""


def digest(text: str) -> str:
    """A CSP source for an inline block: ``'sha256-…'`` of its exact text."""
    value = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{value}'"


SCRIPT_HASH = digest(JS)
STYLE_HASH = digest(CSS)
