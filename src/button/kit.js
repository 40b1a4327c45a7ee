// The button module's DOM work for a whole batch of embeds, one call per step.
//
// Every call from wasm into the browser crosses the JS boundary, about a microsecond each
// (the call, its arguments, a slot for each object it returns), and a button took some
// sixty of them: create its host, attach a shadow root, clone its view, set the label,
// listen, observe, announce it, then read its embed's box and line it up. A page may hold a
// thousand buttons. What to build, with which names and values, and where each host goes
// is decided by the module (kit.rs beside this file, placement.rs); these functions
// only carry it out, one batch per call, and keep no state but what a later call must
// recognise (an embed's last width, the hosts they built, the reservation each embed is in).
//
// The build appends this file to the button module's glue (scripts/post-build.sh, before
// the glue is minified), so it arrives with the glue, which the server writes into the
// loader (server/src/api/inline_module.rs); the loader hands `buttonKit({ tweetIdOf,
// lookupPaths, dntOf, embedForms })` to the module as it starts it. The in-browser tests
// import it (tests/web.rs).

/// The functions the button module calls. They are declared inside, so that nothing but
/// `buttonKit` joins the glue's own top-level names. `rules` holds the loader's `tweetIdOf`,
/// `lookupPaths` and `dntOf` (server/assets/lookup-rules.mjs), which read an embed's tweet id
/// by the rules of tweetbuy-core's `TweetId`, write the offer lookup's paths and read an
/// embed's do-not-track: the loader runs them for its own early lookup, and they run one
/// table of test vectors with core; and `embedForms`, the selector of every embed form
/// (its `EMBED_SELECTOR`).
export function buttonKit(rules) {
  const { tweetIdOf, lookupPaths, dntOf, embedForms } = rules;
  // Each watched embed's width at its last ResizeObserver report (`resized`).
  const widths = new WeakMap();
  // The hosts `mount` built: any other is a copy the page made (`changes`).
  const built = new WeakSet();
  // Embeds whose host the page took out while keeping them, looked at again once (`changes`).
  const restored = new WeakSet();
  // The reservation (`mark`) each marked embed is in, by its number: a scan still waiting
  // for its lookup keeps only the embeds still in its own (`withdrawn`).
  const reservations = new WeakMap();
  let marked = 0;
  // Our host's element name (`mount`): a page's rules for its `div`s miss it.
  const HOST_TAG = "tweetbuy-button";
  // Whether the browser places a box at another's (CSS anchor positioning), and the
  // anchor names this kit gives (`anchor`): a prefix of its own, as a page may load two.
  const anchoring = globalThis.CSS?.supports?.("anchor-name", "--a");
  const anchorPrefix = `--tb-${Math.random().toString(36).slice(2, 8)}-`;
  let anchors = 0;
  return { find, paths, ask, offers, then, mark, listen, mount, follow, leave, measure, apply, observe, sight, settle, changes, copies, withdrawn, resized, pause, timing };

  /// A text as a field of the records `find` and `offers` write: without the separators
  /// (which would split it), or "\x1d" (absent) for anything that is not a string.
  function text(v) {
    return typeof v === "string" ? v.replace(/[\x1d-\x1f]/g, "") : "\x1d";
  }

  /// Every element at or under `root` matching `selector` and inside no other embed form, in
  /// document order, and what the
  /// module reads of each, as one text: a record per element (records end with "\x1e",
  /// fields with "\x1f", an absent value is "\x1d"): the element's attributes named in
  /// `attrs` (space-separated), then its tweet's id (`tweetIdOf`), then "1" if it asks not to
  /// be tracked (`dntOf`). Returns [elements, text].
  function find(root, selector, attrs) {
    const matching = root.matches(selector) ? [root] : [];
    matching.push(...root.querySelectorAll(selector));
    // An embed form inside another (a blockquote in a wrapper the publisher marked, or what
    // widgets.js renders there) belongs to the outer one: one button, after the outer.
    const elements = matching.filter((element) => !element.parentElement?.closest(embedForms));
    const names = attrs.split(" ");
    const rows = elements.map((element) => {
      const fields = names.map((name) => text(element.getAttribute(name)));
      fields.push(text(tweetIdOf(element)), text(dntOf(element) ? "1" : null));
      return fields.join("\x1f");
    });
    return [elements, rows.join("\x1e")];
  }

  /// The offer lookup's paths for `ids` (space-separated) and the visitor id (or null):
  /// sorted, each id once, one path per batch.
  function paths(ids, visitor) {
    return lookupPaths(ids === "" ? [] : ids.split(" "), visitor);
  }

  /// The offer lookup's answers, one per URL of `urls`, in order, each `[status, text]`
  /// (status 0, with the error's message, when no answer came). Each URL's first answer is
  /// the one the loader asked for ahead (`sent[i]`, a promise of `[status, text]`, or null),
  /// or else that of a GET sent now; either is given up after `timeoutMs`, the loader's
  /// (sent before the module had a deadline to give it) counted from this call and no
  /// longer waited for, though not aborted. A try without a 2xx answer goes again after
  /// `retryIn(status, attempt)` milliseconds, or stands when that is negative: whether and
  /// when to try again is the module's rule (src/shared/api.rs), which the checkout
  /// module's requests follow too. Never rejects.
  function ask(urls, sent, timeoutMs, retryIn) {
    const inTime = (answer) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the lookup sent ahead was not answered in time")), timeoutMs);
        answer.then(resolve, reject).finally(() => clearTimeout(timer));
      });
    const once = (url, sentAnswer) =>
      (sentAnswer
        ? inTime(sentAnswer)
        : fetch(url, { signal: AbortSignal.timeout?.(timeoutMs) }).then((r) => r.text().then((text) => [r.status, text]))
      ).catch((error) => [0, String(error?.message ?? error)]);
    const tries = (url, sentAnswer, attempt) =>
      once(url, sentAnswer).then((answer) => {
        const wait = answer[0] >= 200 && answer[0] < 300 ? -1 : retryIn(answer[0], attempt);
        if (wait < 0) return answer;
        return new Promise((resolve) => setTimeout(resolve, wait)).then(() => tries(url, null, attempt + 1));
      });
    return Promise.all(urls.map((url, i) => tries(url, sent[i], 1)));
  }

  /// The lookup's answers (`ask`'s), read for the module as one text of records (records
  /// end with "\x1e", fields with "\x1f", an absent value is "\x1d"). Per answer, a record
  /// "a": its status, "1" if its body is JSON (else absent), the body's `code`, `message` and
  /// `vault_origin`, and, for a request that got no answer (status 0), why. Then a record "o"
  /// per offer in its `offers`: `tweet_id`, `product_id`, `kind`, `availability`, `title`, `lang`, the offer as JSON,
  /// "" if its `variants` are an array (else absent), and each variant's `price.minor` and
  /// `price.currency`. A text field that is not a string, or a number that is not a number,
  /// is absent. Which answer failed and what each field must hold is the module's rule
  /// (src/button/offers.rs); the separators cannot occur in the JSON, which escapes them.
  function offers(answers) {
    const number = (v) => (typeof v === "number" ? String(v) : "\x1d");
    const records = [];
    for (const [status, body] of answers) {
      let page, parsed = "\x1d";
      try {
        page = JSON.parse(body);
        parsed = "1";
      } catch {}
      records.push(["a", status, parsed, text(page?.code), text(page?.message), text(page?.vault_origin), status ? "\x1d" : text(body)]);
      if (!Array.isArray(page?.offers)) continue;
      for (const offer of page.offers) {
        const variants = offer?.variants;
        const record = ["o", text(offer?.tweet_id), text(offer?.product_id), text(offer?.kind), text(offer?.availability), text(offer?.title), text(offer?.lang), JSON.stringify(offer)];
        record.push(Array.isArray(variants) ? "" : "\x1d");
        if (Array.isArray(variants)) for (const v of variants) record.push(number(v?.price?.minor), text(v?.price?.currency));
        records.push(record);
      }
    }
    return records.map((record) => record.join("\x1f")).join("\x1e");
  }

  /// Calls `f(true, value)` once `promise` resolves or `f(false, error)` once it rejects,
  /// with a `pause` first when `pausing`; resolves to what `f` returns. The module's
  /// asynchronous steps are plain functions chained here (src/button/kit.rs, `then`).
  function then(promise, pausing, f) {
    const settled = Promise.resolve(promise).then((value) => [true, value], (error) => [false, error]);
    return (pausing ? settled.then((result) => pause().then(() => result)) : settled).then((result) => f(result[0], result[1]));
  }

  /// Marks each embed with its tweet's id (`ids`, space-separated, in the embeds' order), so
  /// that no later scan takes it while its offer is looked up; or, with `ids` null, takes the
  /// mark off again. The embeds are a reservation of their own from then on (`withdrawn`).
  function mark(embeds, ids, attachedAttr) {
    const tweetIds = ids?.split(" ");
    const reservation = (embeds.reservation = ++marked);
    embeds.forEach((embed, i) => {
      reservations.set(embed, reservation);
      tweetIds ? embed.setAttribute(attachedAttr, tweetIds[i]) : embed.removeAttribute(attachedAttr);
    });
  }

  /// Calls `listener(event, button)` for every event of `types` (space-separated) whose
  /// innermost target is a Buy button (`buttonSelector`) in the shadow root of a host
  /// (`hostAttr`): one listener per type on the document, in its capture phase, for every
  /// button of the page. The button is found through the event's path, so an event of the
  /// host's sheet never counts as the button's; any other event of the page costs one check
  /// (its target at the document is an open shadow host, as every host is).
  function listen(hostAttr, buttonSelector, types, listener) {
    const heard = (event) => {
      if (!event.target?.shadowRoot) return;
      const button = event.composedPath()[0];
      if (button?.matches?.(buttonSelector) && button.getRootNode().host?.hasAttribute(hostAttr)) listener(event, button);
    };
    for (const type of types.split(" ")) document.addEventListener(type, heard, true);
  }

  /// Builds a button under each embed and announces it. `rows` holds one record per embed
  /// (records end with "\x1e", fields with "\x1f"): the prototype's index in `protos`, the
  /// host's theme, the label, the tweet id and the product id. `names` (space-separated)
  /// are hostAttr, themeAttr, readyEvent, tweetIdKey, productIdKey.
  ///
  /// Each host gets an open shadow root adopting `sheets`, and a deep copy of its prototype
  /// (root > anchor > button) with the label. Every host is built before any goes in, right
  /// after its embed: a subtree built before it joins the page costs the browser less, and
  /// a failure leaves the page as it was. Its inline `display: block !important`, through
  /// the CSSOM (allowed by a strict CSP), keeps hostile page rules such as
  /// `* { all: unset !important }` from hiding it. `ready` fires on the embed, bubbling out
  /// of any shadow root. What the visitor does to the button reaches the module through
  /// `listen`.
  /// Returns [hosts, buttons].
  function mount(embeds, rows, protos, names, sheets) {
    const [hostAttr, themeAttr, ready, tweetIdKey, productIdKey] = names.split(" ");
    const fields = rows.split(/[\x1e\x1f]/);
    const buttons = [];
    // A host is a copy of the first of its theme and view, made whole once, its shadow root
    // and view included (a clonable shadow root is copied with its host): one copy costs the
    // browser less than making, styling and filling each host. A browser that copies no
    // shadow root gets one made for each host.
    const hostProtos = new Map();
    const hosts = embeds.map((embed, i) => {
      // Read by index: a slice and its destructuring cost an array and an iterator per host.
      const k = i * 5;
      const proto = fields[k], theme = fields[k + 1], label = fields[k + 2], tweetId = fields[k + 3];
      const key = proto + " " + theme;
      let hostProto = hostProtos.get(key);
      if (!hostProto) {
        // An element of our own name: a page's rules for its `div`s (padding, borders,
        // margins) do not reach it, and it shows as a block only by the style set here.
        hostProto = document.createElement(HOST_TAG);
        hostProto.setAttribute(themeAttr, theme);
        hostProto.style.setProperty("display", "block", "important");
        // The left margin `apply` sets places it, on a right-to-left page too, where a box
        // with both margins set would be placed by its right one.
        hostProto.style.setProperty("margin-right", "auto", "important");
        hostProto.attachShadow({ mode: "open", clonable: true }).append(protos[proto].cloneNode(true));
        hostProtos.set(key, hostProto);
      }
      const host = hostProto.cloneNode(true);
      built.add(host);
      let shadow = host.shadowRoot;
      if (!shadow) {
        shadow = host.attachShadow({ mode: "open" });
        shadow.append(protos[proto].cloneNode(true));
      }
      host.setAttribute(hostAttr, tweetId);
      shadow.adoptedStyleSheets = sheets;
      const button = shadow.firstElementChild.firstElementChild.firstElementChild;
      button.textContent = label;
      buttons.push(button);
      return host;
    });
    // A host the browser places (`placeable`) is placed before it ever joins the page: one
    // laid out as a grid cell and moved later counts as a layout shift, even before a
    // paint. The styles are read before anything is written.
    const outOfFlow = placeable();
    const anchored = embeds.map(outOfFlow);
    embeds.forEach((embed, i) => {
      if (anchored[i]) anchor(embed, hosts[i]);
      embed.after(hosts[i]);
      const detail = { [tweetIdKey]: fields[i * 5 + 3], [productIdKey]: fields[i * 5 + 4] };
      embed.dispatchEvent(new CustomEvent(ready, { bubbles: true, composed: true, detail }));
    });
    return [hosts, buttons];
  }

  /// Puts `host` back right after `embed`, which the page moved. `moveBefore` moves it as it
  /// is: an open sheet stays modal and its card frame keeps what the buyer typed, where a
  /// removal and insertion leaves a dialog open but no longer modal (the page behind live)
  /// and loads the frame afresh. Browsers without it (Safari) get the insertion, and an open
  /// sheet is shown modal again.
  function follow(embed, host) {
    try {
      embed.parentNode.moveBefore(host, embed.nextSibling);
    } catch {
      // Every dialog of ours is opened modal (`dialog[open]`: older browsers have no `:modal`).
      const root = host.shadowRoot;
      const open = root?.querySelector("dialog[open]");
      const focused = root?.activeElement;
      embed.after(host);
      if (open) {
        // Shown again, not closed by the visitor: the stand-in must not take it for a close.
        root.addEventListener("close", (e) => e.stopImmediatePropagation(), { capture: true, once: true });
        open.close();
        open.showModal();
        focused?.focus();
      }
    }
  }

  /// Takes out the host of a tweet the page removed, unless a sheet (or the stand-in) is open
  /// in it: a visitor in the middle of buying keeps it, the button hidden (`hiddenAttr` on the
  /// view's root), until it closes and none is open.
  function leave(host, hiddenAttr) {
    const open = host.isConnected && host.shadowRoot?.querySelector("dialog[open]");
    if (!open) return host.remove();
    host.shadowRoot.firstElementChild.setAttribute(hiddenAttr, "");
    // Looked at again after the close: the stand-in closes as the sheet opens.
    open.addEventListener("close", () => setTimeout(leave, 0, host, hiddenAttr), { once: true });
  }

  /// Reads the boxes that line each host up with its embed, all before anything is written,
  /// seven numbers per pair: the tweet's width and left edge (a rendered tweet's iframe when
  /// it has a box, else the embed), the host's top and left edge, the host's inline
  /// `margin-left` (0 if none), the top of the first element after the host that has a
  /// box (NaN if there is none, or if the host's top is below `nextWithin`: not needed),
  /// and the host's CSS zoom, negated if the host is placed at its embed by the browser
  /// (`anchor`), or would be (`placeable`).
  function measure(embeds, hosts, nextWithin) {
    const boxes = new Float64Array(embeds.length * 7);
    const outOfFlow = placeable();
    embeds.forEach((embed, i) => {
      const frame = embed.querySelector(":scope > iframe");
      const tweet = (frame && frame.getClientRects().length > 0 ? frame : embed).getBoundingClientRect();
      const host = hosts[i];
      const box = host.getBoundingClientRect();
      let nextTop = NaN;
      if (box.top <= nextWithin) {
        for (let next = host.nextElementSibling; next; next = next.nextElementSibling) {
          if (next.getClientRects().length > 0) {
            nextTop = next.getBoundingClientRect().top;
            break;
          }
        }
      }
      // Element by element: an array per embed for `set` would be garbage by the thousand.
      // In the host's own CSS pixels, which `apply` sets: on a page zoomed by CSS (`zoom`),
      // the boxes are drawn that many times larger than the lengths that size them.
      const k = i * 7, z = host.currentCSSZoom || 1;
      boxes[k] = tweet.width / z;
      boxes[k + 1] = tweet.left / z;
      boxes[k + 2] = box.top / z;
      boxes[k + 3] = box.left / z;
      boxes[k + 4] = parseFloat(host.style.getPropertyValue("margin-left")) || 0;
      boxes[k + 5] = nextTop / z;
      // The zoom, negative for a host the browser places at its embed.
      boxes[k + 6] = (host.style.getPropertyValue("position-anchor") || outOfFlow(embed) ? -z : z);
    });
    return boxes;
  }

  /// Sizes each host from four numbers per host: its width and left margin (`!important`,
  /// which hostile page rules cannot undo; NaN: left as it is), the free space under it,
  /// `--tb-float-gap` (NaN: none), and where its button goes: 1 to its row now (the
  /// attribute `floatingAttr` comes off the host's view root), 0 floating, with `floating`
  /// (when given) watching its anchor, -1 hidden with its tweet: the attribute `hiddenAttr`
  /// goes on the host's view root, which hides it, and comes off with any other. A width of
  /// -1 has the browser place the host at its embed (`anchor`), floating for good.
  function apply(embeds, hosts, sizes, hiddenAttr, floatingAttr, floating) {
    hosts.forEach((host, i) => {
      // Read by index: a subarray and its destructuring cost a view and an iterator per host.
      const k = i * 4;
      const width = sizes[k], marginLeft = sizes[k + 1], gap = sizes[k + 2], row = sizes[k + 3];
      const root = host.shadowRoot?.firstElementChild;
      if (row === -1) root?.setAttribute(hiddenAttr, "");
      else root?.removeAttribute(hiddenAttr);
      if (width === -1) {
        anchor(embeds[i], host);
        root?.setAttribute(floatingAttr, "");
        return;
      }
      if (!Number.isNaN(width)) {
        host.style.setProperty("max-width", `${width}px`, "important");
        host.style.setProperty("margin-left", `${marginLeft}px`, "important");
      }
      if (!Number.isNaN(gap)) host.style.setProperty("--tb-float-gap", `${gap}px`);
      if (row === 1) root?.removeAttribute(floatingAttr);
      // Only a view still floating: one that has taken its row is done with the observer.
      else if (row === 0 && root?.hasAttribute(floatingAttr)) floating?.observe(root.firstElementChild);
    });
  }

  /// A reader of whether an embed's host must be placed by the browser (`anchor`), as a
  /// block after the embed would not sit under it: its parent lays its children out as a
  /// grid or a flex line, where a host would take a cell of its own, or the embed floats
  /// beside the text (oEmbed's `align`), where a block after it starts level with its top.
  /// Each parent is read once: a wall of a thousand tweets has one.
  function placeable() {
    const lines = new Map();
    const inLine = (parent) => {
      if (!lines.has(parent)) lines.set(parent, !!parent && /grid|flex/.test(getComputedStyle(parent).display));
      return lines.get(parent);
    };
    return (embed) => !!anchoring && (inLine(embed.parentElement) || getComputedStyle(embed).float !== "none");
  }

  /// Takes the host out of the page's flow (its parent's grid or flex line, or the text
  /// beside a floated tweet) and has the browser keep it at its tweet's bottom edge, as wide
  /// as the tweet, wherever the page moves or sizes it: the embed is named as an anchor, and
  /// the host positioned by that name. A rendered tweet's
  /// iframe takes the same name: the last of the two in the page's order that has a box
  /// wins, so the button lines up with the tweet the visitor sees (the iframe, which may be
  /// narrower than its wrapper) while there is one, with no box read here.
  function anchor(embed, host) {
    let name = host.style.getPropertyValue("position-anchor");
    if (!name) {
      name = anchorPrefix + ++anchors;
      const place = { position: "absolute", "position-anchor": name, top: "anchor(bottom)", left: "anchor(left)", right: "anchor(right)" };
      for (const property in place) host.style.setProperty(property, place[property], "important");
    }
    for (const named of [embed, embed.querySelector(":scope > iframe")]) named?.style.setProperty("anchor-name", name, "important");
  }

  /// Has an observer watch every target.
  function observe(observer, targets) {
    for (const target of targets) observer.observe(target);
  }

  /// Three numbers per IntersectionObserver entry: 1 if its target intersects the root,
  /// else 0; the target's top edge; the root's bottom edge (NaN without one).
  function sight(entries) {
    const numbers = new Float64Array(entries.length * 3);
    entries.forEach((entry, i) => {
      // Element by element, as in `measure`: no array per entry.
      const k = i * 3;
      numbers[k] = entry.isIntersecting ? 1 : 0;
      numbers[k + 1] = entry.boundingClientRect.top;
      numbers[k + 2] = entry.rootBounds?.bottom ?? NaN;
    });
    return numbers;
  }

  /// For each entry whose index is in `chosen`: the observer lets go of its target, and the
  /// attribute comes off the target's parent.
  function settle(entries, chosen, observer, attr) {
    for (const i of chosen) {
      const target = entries[i].target;
      observer.unobserve(target);
      target.parentElement?.removeAttribute(attr);
    }
  }

  /// A User Timing measure for `make bench`: `name`, from `start` for `duration` ms, its
  /// `detail` the batch's `count`, its phases (`reserveMs`, `mountMs`; NaN where a measure
  /// has none) and the size of the module's `memory` (`wasmBytes`).
  function timing(name, start, duration, count, reserveMs, mountMs, memory) {
    const detail = { count, domMs: duration, reserveMs, mountMs, wasmBytes: memory.buffer.byteLength };
    performance.measure(name, { start, duration, detail });
  }

  /// A promise that resolves once the page has had a turn: `scheduler.yield()`, which
  /// resumes ahead of the page's other tasks, where the browser has it.
  function pause() {
    return globalThis.scheduler?.yield?.() ?? new Promise((resolve) => setTimeout(resolve, 0));
  }

  /// The embeds among ResizeObserver `entries` whose width changed since their last report,
  /// each with its host (the next element, if it is one), as [embeds, hosts]. An embed's
  /// first report only records its width: it was lined up as it was mounted.
  function resized(entries) {
    const embeds = [], hosts = [];
    for (const { target, contentRect } of entries) {
      const before = widths.get(target);
      widths.set(target, contentRect.width);
      const host = target.nextElementSibling;
      if (before !== undefined && before !== contentRect.width && host?.localName === HOST_TAG) {
        embeds.push(target);
        hosts.push(host);
      }
    }
    return [embeds, hosts];
  }

  /// Takes out of `node`, an element the page added (or the whole page as the module starts:
  /// a page saved with our marks and hosts in it), and what it holds, every host `mount`
  /// did not build: a copy the page made (a carousel copies its slides, or each child of its
  /// track, our host with its clonable shadow root among them), whose button nothing
  /// answers. And unmarks every copied embed: marked, yet in no reservation of this kit's
  /// (`mark`, through which every mark goes), copied before or after its button was built.
  /// It also loses the original's anchor name (`anchor`), which would draw the original's
  /// button at the copy. The scan then gives it a button of its own. Returns whether `node`
  /// is a host.
  function copies(node, hostAttr, attachedAttr) {
    const isHost = node.hasAttribute(hostAttr);
    for (const element of [node, ...node.querySelectorAll(`[${hostAttr}],[${attachedAttr}]`)]) {
      if (element.hasAttribute(hostAttr)) {
        if (!built.has(element)) element.remove();
      } else if (element.hasAttribute(attachedAttr) && !reservations.has(element)) {
        element.removeAttribute(attachedAttr);
        for (const named of [element, element.querySelector(":scope > iframe")]) named?.style.removeProperty("anchor-name");
      }
    }
    return isHost;
  }

  /// For each of `embeds` (an array `mark` was given), "1" if it is no longer in that
  /// reservation (the page gave it another tweet, `changes`, and a later scan may have taken
  /// it), else "0"; "" if all still are.
  function withdrawn(embeds) {
    const flags = embeds.map((embed) => (reservations.get(embed) === embeds.reservation ? 0 : 1));
    return flags.includes(1) ? flags.join("") : "";
  }

  /// What a batch of MutationRecords did: [whether any removed a node or gave an element
  /// another tweet, the elements they added that are not hosts (`hostAttr`) or gave another
  /// tweet, the embeds a change inside may have given a tweet and those whose host was
  /// taken out, the elements marked attached (`attachedAttr`) whose tweet changed]. Copies
  /// of hosts among the added are taken out (`copies`).
  function changes(records, hostAttr, attachedAttr) {
    let removed = false;
    const added = [];
    const stale = [];
    for (const record of records) {
      const target = record.target;
      // The element whose tweet the change may have changed: the one whose attribute
      // changed, or the embed the nodes were added to or taken from (a page that shows
      // another tweet by changing its status link; a blockquote whose link arrives after it).
      const embed = record.type[0] == "a" ? target : target.closest?.(embedForms);
      if (embed) {
        // The page gave an element another tweet: a button for the one it had goes, and the
        // element, unmarked, is looked at again; a scan still waiting for its lookup leaves
        // it alone (`withdrawn`).
        const had = embed.getAttribute(attachedAttr);
        if (had == null) added.push(embed);
        else if (had != tweetIdOf(embed)) {
          stale.push(embed);
          reservations.delete(embed);
          embed.removeAttribute(attachedAttr);
          added.push(embed);
        }
      }
      removed ||= record.removedNodes.length > 0;
      // The page took out a host we built and kept its tweet (a framework's hydration drops
      // what it did not render): the tweet is looked at again, once, so a page that keeps
      // taking it out is not fought frame after frame.
      const before = record.previousSibling;
      for (const node of record.removedNodes) {
        // Connected: moved (the module puts a host back after its moved tweet), not taken out.
        if (built.has(node) && !node.isConnected && before?.isConnected && before.hasAttribute?.(attachedAttr) && !restored.has(before)) {
          restored.add(before);
          before.removeAttribute(attachedAttr);
          added.push(before);
        }
      }
      for (const node of record.addedNodes) if (node instanceof Element && !copies(node, hostAttr, attachedAttr)) added.push(node);
    }
    return [removed || stale.length > 0, added, stale];
  }
}
