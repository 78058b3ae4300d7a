/**
 * Benign request corpus for measuring the false-positive rate of the threat guard.
 *
 * Every string here is something a real Vigil user or device plausibly sends: asset names and
 * descriptions, maintenance notes, alarm and incident comments, sensor keys, site hierarchies,
 * operator search queries, readings serialised as JSON, SenML, InfluxDB line protocol and CSV,
 * firmware versions, MAC addresses, serial numbers, GeoJSON, e-mail addresses, vendor URLs,
 * phone numbers, Markdown notes and the user agents of ordinary browsers and tools.
 *
 * It deliberately contains what naive detectors wrongly flag: apostrophes and quotes in names
 * and sentences, English words that are also SQL or shell keywords used in their everyday sense
 * (pressure drop, trade union, order by Friday, sleep mode, CAT generator, ping the logger),
 * comparison and math symbols, angle brackets that are not markup, backslashes in Windows
 * document paths, and text in many languages and scripts. It contains no attack payloads.
 *
 * The corpus was hand-assembled for this project: the base lines are written for Vigil and the
 * rest is generated deterministically from them with templates, vocabulary lists and a seeded
 * PRNG (mulberry32, fixed seed), so every run returns the same strings. No third-party text is
 * copied.
 */

export const BENIGN_SOURCES = [
  'hand-written maintenance notes, alarm comments, incident notes and asset descriptions (English)',
  'everyday words that are also SQL or shell keywords (select, union, drop, order by, sleep, cat, ping, echo)',
  'names and sentences with apostrophes and quotes (O’Brien, d’Alembert, dell’acqua, l’usine)',
  'comparisons, units and symbols (<, >, <=, >=, =, &, |, ;, $, %, #, @, brackets, Windows document paths)',
  'notes in 30 languages and scripts (Latin, Greek, Cyrillic, Arabic, Hebrew, Devanagari, Bengali, Thai, CJK, Hangul)',
  'sensor keys, sensor names and site/zone/DMA hierarchies',
  'operator search queries',
  'machine readings: Vigil JSON, SenML, InfluxDB line protocol, CSV (comma and semicolon), ISO timestamps',
  'device identity: firmware versions, MAC addresses, serial numbers, GeoJSON features',
  'contact details and links: e-mail addresses, phone numbers, vendor documentation URLs',
  'Markdown notes with lists, tables, emphasis and code spans',
  'user agents of browsers and benign clients (Telegraf, curl, python-requests, Grafana, Go, okhttp)',
] as const;

// --- Helpers -------------------------------------------------------------------------------

type Rng = () => number;

function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One entry per non-blank line, trimmed. */
function block(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

const list = (s: string): string[] => s.split('|');

function pick<T>(rng: Rng, items: readonly T[]): T {
  const v = items[Math.floor(rng() * items.length)];
  if (v === undefined) throw new Error('pick from an empty list');
  return v;
}

const int = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));
const dec = (rng: Rng, min: number, max: number, digits: number): string =>
  (min + rng() * (max - min)).toFixed(digits);
const comma = (s: string): string => s.replace('.', ',');
const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const hex2 = (rng: Rng): string => int(rng, 0, 255).toString(16).padStart(2, '0');

const BASE_TIME = Date.UTC(2026, 10, 24, 0, 0, 0);
const isoAt = (minutes: number): string => new Date(BASE_TIME + minutes * 60_000).toISOString();
const clock = (rng: Rng): string => `${pad(int(rng, 0, 23), 2)}:${pad(int(rng, 0, 59), 2)}`;

// --- Hand-written lines --------------------------------------------------------------------

const NOTES_EN = block(`
  Pump 2 at O'Brien's Lane was said to be 'fine' by the night shift, but it's tripping again.
  Spoke to Mr. O'Brien - he says the meter's been "stuck at zero" since Tuesday.
  d'Alembert street valve chamber flooded; couldn't reach the actuator.
  Select the spare seal kit from the store room where the union joints are kept.
  Trade union rep asked to be present at Friday's safety briefing.
  Replaced the union joint on the 2" pipe upstream of PRV-4.
  Pressure drop of 0.8 bar across the strainer, needs cleaning.
  Sudden pressure drop at DMA 7 around 03:40, probably a burst main.
  Please delete the duplicate sensor I created by mistake (dma-h1/flow-old).
  Update: contractor arrived at 10:15, excavation started.
  Insert new gasket before refitting the flange, torque to 120 Nm.
  Order by Friday: 4 x pressure loggers, 2 x batteries (3.6 V lithium).
  The table in the pump house needs replacing, it's rotten.
  Reading is either 1 or 2 bar depending on which gauge you trust.
  Gauge shows 1 = 1 bar? Looks like the scale's been re-labelled.
  Logger went into sleep mode after the battery fell below 3.3 V.
  Exec summary: 3 bursts, 2 pump trips, no supply interruptions over 4 h.
  CAT generator at Hilltop didn't start during the weekly test.
  Caterpillar C18 genset serviced, oil and filters changed.
  Cat found inside the kiosk again, door seal needs fixing.
  ls-2 level switch on tank T-4 stuck high.
  Asset id 4471 has the wrong GPS position, it's 200 m off.
  Ping to logger 10.20.4.17 times out since the router swap.
  Echo sounder survey of reservoir 3 scheduled for May.
  Kill switch on conveyor 2 tested OK.
  Shell-and-tube heat exchanger HX-2 fouling, delta T down to 4 K.
  Noticed a curl in the PE pipe where it enters the chamber, needs a bend support.
  Drop test of the new hydrant cap passed.
  Where is the key for the Westfield booster station? Not in the box.
  Union Street reservoir inlet valve closed for inspection.
  From 22:00 to 06:00 the night flow should be under 4 l/s.
  Join the call at 9 if you're on shift.
  Set the PRV to 3.5 bar and then select "auto" on the HMI.
  Insert a note if the chlorine residual goes below 0.2 mg/l.
  Operator said "don't touch it" about the VFD on P-3.
  Check Pump "B", it's been cycling every 90 s.
  Can't reproduce the alarm; it's probably the float switch.
  We'll swap the logger's SIM tomorrow, the old one's on roaming.
  Anne-Marie O'Neill approved the shutdown for Sunday 06:00-10:00.
  Seán Ó Briain (ext. 4471) is the contact for the Kilmore site.
  D'Souza's team will flush the main from hydrant H-17 to H-22.
  Note from Dell'Acqua: the inlet screen was 80% blocked.
  Rock 'n' roll: the pump skid vibrates when running above 48 Hz.
  Don't drop the level below 30% or the pumps will cavitate.
  Truncated readings from 14:00 to 14:05, gateway rebooted.
  Tank level alarm HH acknowledged; it's a known sensor glitch.
  Motor current 42 A vs nameplate 38 A, investigate.
  Bearing temperature on P-2 rose from 55 °C to 78 °C within 20 minutes.
  Vibration RMS 7.1 mm/s, ISO 10816 zone C. Plan bearing change.
  The 'Old Mill' PRV has been hunting since the pilot was cleaned.
  Hydrant flushing done at Baker's Row, turbidity 0.3 NTU after 15 min.
  Chlorine residual 0.45 mg/l at the far end of Zone North, OK.
  Reservoir 2 at 62% and falling ~3%/h, check inlet.
  Battery at 3.4 V on logger LG-0931, replace within a month.
  Firmware updated to v2.14.3 on all loggers in DMA 12.
  Firmware rollback on gateway GW-07, the new build drops MQTT sessions.
  Meter 20414573 shows reverse flow at night, check for a faulty non-return valve.
  Leak found at the service connection of No. 14 Church St, repaired with a clamp.
  Burst on the 300 mm DI main in Elm Road; traffic management needed.
  Customer at 7 O'Connell Terrace reports low pressure upstairs.
  Valve V-12 (DN150) closed at 09:12, reopened 11:40.
  Pump P-4 tripped on overload; reset and running at 44 Hz.
  Called out at 2am, it was a false alarm: spider on the level sensor.
  Please update the asset description: "Booster pump, 11 kW, Grundfos CR 32".
  Union of two DMAs (7 and 8) planned for the summer, boundary valve V-88 to open.
  Order of operations: isolate, drain, replace, flush, sample, restore.
  "Where's the drawing?" It's in the shared drive under As-Built.
  Select pumps 1 and 2 for the duty/assist rotation, not 3.
  The drop in flow from 12 to 7 l/s matches the school holidays.
  Meeting with the union about overtime for the night repairs.
  from: Riverside control room, to: field team B, re: PS-03 trip
  And/or: use either the portable logger or the fixed one, not both.
  Alarms 1, 2 and/or 3 can be suppressed during the flushing window.
  Null reading at 04:00, logger lost signal, not a zero flow.
  Value was NaN for 3 samples; gateway rebooted at 04:10.
  True/false flag "maintenance mode" left on by mistake after the test.
  Is the max 6 or 8 bar for this section? The drawing's unclear.
  Percent open: 35% → 50% → 65%, pressure steady.
  Script for the handover: check alarms, read tanks, sign the log.
  Shift handover: all quiet, Reservoir 1 topped up to 95%.
  Grease the drive shaft & check the coupling alignment.
  Pipe's got a hairline crack near the weld; we'll monitor it.
  Booster station at Hill Top (the one by St. Mary's) running on 1 pump only.
  Pressure 4.2 bar at the hydrant, 3.9 bar at the customer's tap.
  PLC's watchdog fired twice overnight, no impact on supply.
  "Pump 2" was listed twice in the asset register, merged now.
  It's the 3rd time this month the float's jammed; replace with radar.
  Waiting on parts: mechanical seal 35 mm (Ref. MS-35-EPDM).
  No access, the farmer's gate was locked; rescheduled to Thursday.
  Water's brown after the flush at the end of Mill Lane, flushed again 20 min.
  Compressor C-2 discharge temp 104 °C, above the 100 °C limit; load reduced.
  CNC-04 spindle vibration up 30% since the tool change.
  Conveyor belt 3 slipping at the head pulley, tension adjusted.
  Chiller CH-1 low refrigerant pressure alarm, technician called.
  Boiler feed pump mechanical seal weeping, drip rate ~1 drop/s.
  Cooling tower fan gearbox oil level low, topped up 2 l.
  Hydraulic press HP-3: pressure 210 bar (limit 250), OK.
  Air receiver drain valve stuck open, wasted air for 3 h.
  Forklift charger tripped the RCD again.
  Generator run-hours 12,455 h; next service at 12,500 h.
  Booster pump, Grundfos CR 32-4, 11 kW, 400 V, installed 2019.
  Electromagnetic flow meter DN200, Siemens SITRANS FM MAG 5100 W.
  Pressure logger, 0-16 bar, GSM/LTE-M, battery life ~5 years.
  Gate valve DN150, anticlockwise to close (ACC), 23 turns.
  Butterfly valve DN400 with electric actuator, 4-20 mA feedback.
  Air valve on the rising main, double orifice, PN16.
  Ultrasonic level sensor, range 0-6 m, mounted 0.35 m above overflow.
  Chlorine analyser (free Cl, 0-5 mg/l), buffer refill every 30 days.
  Service reservoir, 2 cells × 1,500 m³, covered, built 1964.
  Borehole pump 18.5 kW at 92 m depth, rising main 4".
  INC-2026-0142: burst main on Elm Road, 230 properties affected for 3 h 20 min.
  Root cause: PRV pilot blocked by sediment → pressure surge → burst.
  Lessons learned: keep the spare pilot kit in the van, not at the depot.
  Timeline: 03:40 alarm, 03:52 ack, 04:30 on site, 05:15 isolated, 08:00 restored.
  Customer complaint: "no water since this morning" at 22 Queen's Road.
  The kids' playground hydrant was opened by someone again, lost ~40 m³.
  Drop-in session for the new control room screens is on Wednesday.
  Pump won't restart after the power cut; the VFD shows "F0003 undervoltage".
  Echo from the level radar off the ladder, moved the sensor 20 cm.
  Updated the sensor's display name to 'Inlet flow (raw)'.
  The PRV at St. John's wasn't set back after the fire test, it's at 2 bar.
  Sleep interval of the logger changed from 15 to 5 minutes during the trial.
  Delete this note, it was meant for the Westfield site.
  Insert the dip tube fully or the chlorine reading will drift.
  Drop me a line when the crane's booked.
  Order by priority: leaks first, then meters, then painting.
  Can someone explain why pump 1 and pump 2 both ran at 03:00?
  Alarm flood from 02:10 to 02:14 after the comms outage, all cleared.
  Grundfos engineer's visit confirmed for the 12th, 9:00-ish.
  Water tower 'Big Blue' at 88%, inlet closed by the altitude valve.
  Reservoir overflowed for ~10 min; float valve's pilot was stuck.
  The union nut on the chlorine dosing line was leaking, re-tightened.
  Tested the kill switch and the e-stop on the sludge press; both fine.
`);

const SYMBOLS = block(String.raw`
  pressure < 2 bar & flow > 10 m³/h
  temp >= 80 °C | alarm
  If level <= 15% then start P-1; if level >= 90% stop.
  cost $1,200; see ticket #4711
  Parts ordered: 2× seals @ €45 each, total €90 (+ VAT 20%)
  50% open
  ratio 3/4 open, flow roughly halved
  valve V-12 (DN150) [closed]
  Setpoint {min: 2.5, max: 4.0} bar
  Pressure band [2.8, 3.6] bar, alert outside.
  <3 bar at the top of the hill during peak hours
  flow <-> pressure correlation looks wrong after 14:00
  if a<b then the sensor's wired the wrong way round
  x > y means inlet is above outlet, as expected
  use <Ctrl>+<S> to save the report before closing
  press <Enter> to acknowledge the alarm
  Δp = p1 − p2 = 0.6 bar
  Q = 12.5 l/s; H = 38 m; P ≈ 6.2 kW
  η = 72% (was 78% last year)
  6.5 ≤ pH ≤ 9.5 is the allowed band, we're at 7.4
  Level: 2.35 m / 4.00 m (58.8%)
  Flow 101.5 m3/h ± 2%
  Temp 21.4°C, RH 63%, enclosure dry
  V = 230 V ±10%, I = 12.4 A, cos φ = 0.86
  Alarm when p < 1.5 bar && q > 20 l/s (possible burst)
  Level >= 80% || pump running → close inlet
  A = π·d²/4 = 0.0177 m² for DN150
  1/2" BSP fitting; 3/4" hose; 1" ball valve
  Item #3: replace O-ring 25×3 mm
  See ticket #4711 & #4712 (duplicates)
  @Maria can you check PS-03 tomorrow?
  Email j.obrien@riverside-water.example when done
  Call 0800 123 4567 or +44 20 7946 0958 out of hours
  +49 30 12345678 (Leitwarte Berlin)
  Report saved to C:\Users\ops\Documents\report.xlsx
  Drawings are in S:\Engineering\As-Built\PS-03 General Arrangement.pdf
  Temp: 18 °C = 64.4 °F
  Flow total 12 345.6 m³ (meter #20414573)
  KPI: NRW = 23.4% (target < 20%)
  Pressure at 02:00 ~ 5.1 bar; at 08:00 ~ 3.2 bar.
  Preis: 1.200,50 € (inkl. MwSt.)
  site=riverside; zone=north; dma=7
  Threshold: value > mean + 3σ
  quality is "good" and value > 0
  2 × 50% duty pumps = 100% capacity (N+1 with the standby)
  Ratio in/out = 0.97 → 3% loss
  Q1/Q2/Q3 2026 reports attached
  [P-1] running, [P-2] standby, [P-3] out of service
  {"note": "manual reading", "value": 3.1}
  10:00 < t < 12:00 window for the shutdown
  Σ flows = 412 m³/h vs inlet 430 m³/h
  Tank A <= Tank B by ~0.4 m, balancing valve half open
  pH 7.2 / Cl 0.35 / Turb 0.2 / Temp 12.8
  RSSI -87 dBm, SNR 4 dB, battery 3.52 V
  a / b * 100 = % of capacity
  +/- 0.5% accuracy at 20 °C
  Flow (inlet) [m³/h]
  Pressure – O'Brien's Lane hydrant
  Zone #2 ≠ Zone 2B, please don't mix them up
  100 kPa = 1 bar = 10.2 m head
  & and + both mean "and" in the shift log
  5 < x < 10 is normal for this sensor
  Reading #18: 3.92 bar @ 12:00 (OK)
  ~50 m³/day @ ~€1.80/m³ ≈ €90/day lost
  Valve position 0% = closed, 100% = open (not the other way around!)
`);

const MULTILINGUAL = block(`
  Pumpe 3 läuft unruhig, Lagertemperatur 78 °C – bitte prüfen.
  Druckabfall von 0,6 bar in DMA 7 seit 03:40, vermutlich Rohrbruch.
  Schieber S-12 (DN 150) geschlossen, Leitung wird gespült.
  Chlorwert am Hochbehälter Süd: 0,35 mg/l, in Ordnung.
  Batterie des Datenloggers fast leer (3,4 V), Austausch bis Freitag.
  Füllstand Behälter 2 bei 62 % und fallend; Zulauf prüfen.
  La pompe n°2 de l'usine fait un bruit anormal, on l'a arrêtée.
  Fuite détectée rue d'Alembert, intervention prévue demain à 8 h.
  Pression < 2 bar au point haut, c'est l'heure de pointe.
  Le compteur de l'école affiche un débit nocturne de 1,2 m³/h.
  Mise à jour du firmware du logger effectuée, redémarrage OK.
  Chlore résiduel à 0,18 mg/l au réservoir d'Aubigny : vérifier l'injection.
  La bomba 3 se disparó por sobrecarga, se reinició a las 14:20.
  Fuga en la calle O'Donnell, válvula de corte cerrada.
  Presión baja en el depósito norte; revisar la válvula reductora.
  Cambié la batería del registrador, ahora marca 3,6 V.
  ¿El caudalímetro de la estación está calibrado? Marca un 15 % más.
  A bomba 2 da estação elevatória está com vibração alta.
  Vazamento na adutora próxima à escola, equipe a caminho.
  Nível do reservatório em 45%, abastecimento normal.
  Troca do hidrômetro concluída; leitura inicial 000123 m³.
  Pressão caiu para 1,8 bar às 06h, verificar válvula redutora.
  Perdita sulla condotta dell'acqua in via Dell'Orto, squadra avvisata.
  La pompa n. 3 è in blocco termico, temperatura cuscinetto 82 °C.
  Livello del serbatoio all'80%, tutto regolare.
  Sostituita la batteria del data logger, l'apparecchio funziona.
  Cloro residuo 0,25 mg/l all'uscita dell'impianto.
  Pomp 2 maakt veel lawaai, lager waarschijnlijk versleten.
  Lekkage bij de hoofdleiding in de Dorpsstraat, afsluiter dicht.
  Druk in zone Noord daalt 's nachts tot 2,1 bar.
  Batterij van de logger vervangen, firmware bijgewerkt naar 3.2.1.
  Reservoir 't Hoogveld staat op 70%, geen actie nodig.
  Pompa nr 2 wyłączona z powodu przegrzania łożyska.
  Wyciek na magistrali przy ul. Źródlanej, zasuwa zamknięta.
  Ciśnienie w strefie północnej spadło do 1,9 bara.
  Wymieniono baterię w rejestratorze, napięcie 3,6 V.
  Poziom zbiornika 55%, chlor wolny 0,3 mg/l.
  Čerpadlo č. 3 hlásí vysoké vibrace, plánujeme výměnu ložisek.
  Únik vody na řadu v ulici Nádražní, šoupě uzavřeno.
  Tlak v zóně Sever klesl pod 2 bary.
  Vyměněna baterie v dataloggeru, firmware aktualizován.
  Hladina ve vodojemu 68 %, chlor 0,2 mg/l.
  Pompa 2 aşırı ısınma nedeniyle durdu, rulman kontrol edilecek.
  Okul yakınındaki ana hatta sızıntı var, vana kapatıldı.
  Depo seviyesi %48, basınç 3,1 bar.
  Veri kaydedicinin pili değiştirildi, yazılım güncellendi.
  Kuzey bölgesinde gece basıncı düşük; PRV ayarını kontrol edin.
  Pump 2 går varm, lagertemperatur 76 °C – kontrollera smörjningen.
  Läcka på huvudledningen vid skolan, ventilen är stängd.
  Trycket i zon Norr sjönk till 2,2 bar under natten.
  Bytte batteri i loggern, ny firmware installerad.
  Reservoarens nivå är 81 %, klorhalten 0,3 mg/l.
  Pumppu 3 värisee voimakkaasti, laakerit vaihdetaan ensi viikolla.
  Vuoto runkolinjassa koulun lähellä, venttiili suljettu.
  Paine pohjoisella alueella laski 2,0 baariin yöllä.
  Loggerin akku vaihdettu, laiteohjelmisto päivitetty.
  Vesisäiliön pinta 64 %, kloori 0,25 mg/l.
  Η αντλία 2 παρουσιάζει υψηλούς κραδασμούς, χρειάζεται έλεγχο.
  Διαρροή στον κεντρικό αγωγό κοντά στο σχολείο, η βάνα έκλεισε.
  Η πίεση στη βόρεια ζώνη έπεσε στα 1,8 bar.
  Αντικαταστάθηκε η μπαταρία του καταγραφικού.
  Στάθμη δεξαμενής 70%, υπολειμματικό χλώριο 0,3 mg/l.
  Насос №2 остановлен из-за перегрева подшипника.
  Утечка на магистрали возле школы, задвижка закрыта.
  Давление в северной зоне упало до 1,9 бар ночью.
  Заменили батарею в логгере, прошивка обновлена до 2.14.
  Уровень в резервуаре 65 %, остаточный хлор 0,3 мг/л.
  Насос №3 працює з підвищеною вібрацією, потрібна перевірка.
  Витік на водогоні біля школи, засувку закрито.
  Тиск у північній зоні впав до 2 бар.
  Замінено батарею в реєстраторі, прошивку оновлено.
  Рівень у резервуарі 58 %, хлор 0,25 мг/л.
  المضخة رقم 2 متوقفة بسبب ارتفاع حرارة المحمل.
  تسرب في الخط الرئيسي بالقرب من المدرسة، تم إغلاق الصمام.
  انخفض الضغط في المنطقة الشمالية إلى 1.8 بار.
  تم استبدال بطارية مسجل البيانات وتحديث البرنامج الثابت.
  مستوى الخزان 60٪ والكلور المتبقي 0.3 ملغم/لتر.
  משאבה 2 הושבתה בגלל התחממות המיסב.
  דליפה בקו הראשי ליד בית הספר, המגוף נסגר.
  הלחץ באזור הצפוני ירד ל-1.9 בר.
  הסוללה של הלוגר הוחלפה, הקושחה עודכנה.
  מפלס המאגר 72%, כלור נותר 0.3 מ"ג/ל.
  پمپ شماره ۲ به دلیل داغ شدن یاتاقان خاموش شد.
  نشتی در خط اصلی نزدیک مدرسه، شیر بسته شد.
  فشار در منطقه شمالی به ۱٫۸ بار کاهش یافت.
  باتری دیتالاگر تعویض شد.
  سطح مخزن ۶۵٪ است.
  पंप नंबर 2 बेयरिंग गरम होने के कारण बंद है।
  स्कूल के पास मुख्य पाइपलाइन में रिसाव, वाल्व बंद कर दिया गया।
  उत्तरी ज़ोन में दबाव 1.8 बार तक गिर गया।
  डेटा लॉगर की बैटरी बदली गई, फ़र्मवेयर अपडेट किया गया।
  टंकी का स्तर 60% है, क्लोरीन 0.3 mg/l।
  ২ নম্বর পাম্পে অতিরিক্ত কম্পন, পরীক্ষা করা দরকার।
  স্কুলের কাছে প্রধান পাইপলাইনে লিক, ভালভ বন্ধ করা হয়েছে।
  উত্তর জোনে চাপ ১.৮ বারে নেমে গেছে।
  লগারের ব্যাটারি বদলানো হয়েছে।
  জলাধারের স্তর ৬৫%।
  ปั๊มหมายเลข 2 สั่นสะเทือนสูง ต้องตรวจสอบตลับลูกปืน
  ท่อประธานรั่วใกล้โรงเรียน ปิดวาล์วแล้ว
  แรงดันโซนเหนือลดลงเหลือ 1.8 บาร์
  เปลี่ยนแบตเตอรี่เครื่องบันทึกข้อมูลแล้ว
  ระดับน้ำในถังเก็บ 70%
  Máy bơm số 2 rung mạnh, cần kiểm tra vòng bi.
  Rò rỉ trên đường ống chính gần trường học, đã đóng van.
  Áp lực khu vực phía Bắc giảm xuống 1,8 bar.
  Đã thay pin cho bộ ghi dữ liệu, cập nhật firmware.
  Mực nước bể chứa 65%, clo dư 0,3 mg/l.
  Pompa 2 bergetar keras, bantalan perlu diperiksa.
  Kebocoran pada pipa utama dekat sekolah, katup sudah ditutup.
  Tekanan di zona utara turun ke 1,8 bar.
  Baterai logger sudah diganti, firmware diperbarui.
  Level reservoir 65%, sisa klor 0,3 mg/l.
  2号泵轴承温度过高，已停机检查。
  学校附近主管道漏水，阀门已关闭。
  北区夜间压力降至1.8 bar。
  数据记录仪电池已更换，固件已升级到 v2.14.3。
  水池液位65%，余氯0.3 mg/L。
  2號泵軸承溫度過高，已停機檢查。
  學校附近主管線漏水，閥門已關閉。
  北區夜間壓力降至1.8 bar。
  資料記錄器電池已更換。
  水塔水位70%，餘氯0.3 mg/L。
  2号ポンプの軸受温度が高いため停止しました。
  学校付近の配水本管で漏水、仕切弁を閉止済み。
  北ゾーンの夜間圧力が1.8 barまで低下。
  データロガーの電池を交換し、ファームウェアを更新しました。
  配水池の水位は65%、残留塩素0.3 mg/L。
  2번 펌프 베어링 온도 상승으로 정지함.
  학교 근처 주 배관 누수, 밸브 차단 완료.
  북부 구역 야간 압력이 1.8 bar로 떨어짐.
  데이터 로거 배터리 교체 및 펌웨어 업데이트 완료.
  배수지 수위 65%, 잔류 염소 0.3 mg/L.
  Pampu namba 2 imesimama kwa sababu ya joto la fani.
  Kuna uvujaji kwenye bomba kuu karibu na shule, vali imefungwa.
  Shinikizo katika eneo la kaskazini limeshuka hadi bar 1.8.
  Betri ya kirekodi data imebadilishwa.
  Kiwango cha tanki ni 65%, klorini 0.3 mg/l.
  Reparació de la canonada a l'estació de bombament de l'Horta.
  Vannet er brunt etter spylingen, vi spyler igjen i 20 min.
`);

const SEARCHES = block(`
  pump 3 vibration last week
  leak OR burst near school
  "pressure drop" zone north
  dma-h1/pressure
  PS-03 alarms -acknowledged
  chlorine < 0.2
  battery low loggers riverside
  valve V-12
  O'Brien
  tank level > 90%
  firmware 2.14
  reservoir 2 AND inlet
  site:riverside type:pump
  "Pump 2" 'fine'
  trips from last 7 days
  select pumps where status tripped
  order by last seen
  delete old alarms?
  how to update firmware on LG loggers
  zone=north&type=meter
  #4711
  *flow*
  pressure_*
  temp:[70 TO 90]
  near:51.5072,-0.1276
  drop in flow after 22:00
  union joint spare parts
  cat generator service
  ping logger 10.20.4.17
  hx-2 shell and tube
  压力 北区
  Druckabfall Zone Nord
  fuite rue d'Alembert
  насос 2 вибрация
  d'Souza
  who acknowledged the 03:40 alarm
  sleep mode loggers
  echo sounder reservoir 3
  kill switch conveyor
  exec summary november
`);

const CONTACT_AND_LINKS = block(String.raw`
  https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/
  https://grafana.com/docs/grafana/latest/alerting/
  https://www.rfc-editor.org/rfc/rfc8428
  https://www.rfc-editor.org/rfc/rfc7946
  https://github.com/influxdata/telegraf/tree/master/plugins/inputs/modbus
  https://modbus.org/specs.php
  https://mqtt.org/mqtt-specification/
  https://vigil.example/sensors?site=riverside&zone=north&sort=-lastSeen
  https://vigil.example/alarms?state=open&severity=critical&page=2
  https://vigil.example/assets/PS-03/P-2#maintenance
  mary.o'hara@riverside-water.example
  ops-team+alarms@riverside-water.example
  j.dalembert@eaux-de-l-ouest.example
  +1 (555) 013-4471 ext. 12
  +33 1 23 45 67 89
  +81 3-1234-5678
  0049 (0)89 / 123 456-78
  C:\Users\ops\Desktop\Zone North - pressure survey (v2).xlsx
  D:\Maintenance\2026\PS-03 bearing change.docx
  \\fileserver\Engineering\As-Built\DMA 7.pdf
`);

const USER_AGENTS = block(`
  Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36
  Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0
  Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15
  Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0
  Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1
  Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36
  Telegraf/1.32.2 Go/1.23.3
  curl/8.5.0
  python-requests/2.32.3
  Grafana/11.3.0
  Go-http-client/1.1
  okhttp/4.12.0
  PostmanRuntime/7.42.0
  Prometheus/2.55.1
  node-red-contrib-vigil/0.3.1 (Node.js v20.18.0)
  Wget/1.21.4
`);

const MARKDOWN = [
  '## Handover\n- P-1 running\n- P-2 **tripped** (overload)\n- Reservoir 1: 82%',
  'Use `valve.close()` only after the pump has stopped.',
  '**Urgent**: leak at *Mill Lane*, see ticket #4711.',
  '1. Isolate\n2. Drain\n3. Replace seal\n4. Flush & sample',
  '> Note: readings between 14:00 and 14:05 are estimated.',
  '- [x] battery replaced\n- [ ] firmware update\n- [ ] calibrate flow meter',
  'Set `alarm.threshold = 2.5` for dma-h1/pressure',
  '| Pump | Status |\n|------|--------|\n| P-1 | running |\n| P-2 | tripped |',
  "_Checked by_ O'Brien, *approved by* D'Souza",
  '`PS-03/P-2/bearing-temp` > 80 °C → raise to **critical**',
  '[Line protocol reference](https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/)',
  '```\npressure,site=riverside value=3.92\n```',
  "~~Replace the pump~~ Just reset the overload, it's fine.",
  '### Next steps\n* order seals\n* book crane\n* notify the union rep',
  'The `pump.start()` button on the mimic is greyed out for *viewers*, as intended.',
  '**Why?** The `quality` field was `"suspect"` for all of DMA 7 after the gateway swap.',
];

// --- Vocabulary ----------------------------------------------------------------------------

const PEOPLE = list(
  "O'Brien|O'Neill|D'Souza|Jean d'Alembert|Marco Dell'Acqua|Awa N'Diaye|Liam O'Connor|Fiona McAllister|" +
    "Jürgen Müller|Łukasz Wiśniewski|Zoë van der Berg|José Núñez|François L'Heureux|Siobhán Ní Bhriain|" +
    "Ahmed Al-Farsi|Nguyễn Văn An|Kim Min-jun|Priya Sharma|Ola Nordmann|Ayşe Yılmaz|Jean-Luc D'Arcy|" +
    "Mary-Kate O'Hara|Giulia D'Angelo|Hana Nováková|Bjørn Ødegård|Tomás Ó Súilleabháin|Amélie d'Orléans|Sam",
);
const SITES = list(
  "Riverside|Hilltop|Westfield|Old Mill|St. Mary's|Baker's Row|Kilmore|O'Connell Terrace|Union Street|" +
    "Lake View|Northgate|Bergstraße|Rue d'Alembert|Via dell'Acqua|Calle Mayor|'t Hoogveld|Søndermarken|Queen's Road",
);
const ORGS = list(
  'Riverside Water|Northgate Utilities|Eaux de l’Ouest|Stadtwerke Bergheim|Acque del Lago|Hilltop Plant',
);
const ZONES = list('North|South|East|West|Central|High Level|Low Level');
const ASSET_TYPES = list(
  'pump|booster pump|borehole pump|gate valve|butterfly valve|PRV|flow meter|pressure logger|level sensor|' +
    'chlorine analyser|reservoir|tank|hydrant|air valve|compressor|motor|gearbox|conveyor|generator|VFD|PLC|RTU|gateway',
);
const ID_PREFIX = list('P|V|PRV|FM|LG|T|R|H|AV|C|M|GB|CV|G|VFD|PLC|RTU|GW');
const PARTS = list(
  'mechanical seal|bearing|coupling|impeller|gasket|O-ring|battery|SIM card|antenna|actuator|pilot valve|' +
    'float switch|pressure transducer|fuse|contactor|union joint|strainer basket|drive belt',
);
const ISSUES = list(
  'high vibration|bearing running hot|pressure drop|no comms since last night|battery low|reverse flow at night|' +
    'intermittent trips|seal weeping|noisy at start-up|reading stuck|level drifting|chlorine low|air in the line',
);
const ACTIONS = list(
  'monitor for 24 h|replace next visit|raise a work order|ask the vendor|reset and observe|isolate and drain|' +
    'flush the line|recalibrate|swap the logger|check the wiring|update the firmware|order spares',
);
const REASONS = list(
  "known sensor glitch|crew on site|planned shutdown|flushing in progress|it's the float again|" +
    'comms outage|false alarm|duplicate of earlier alarm|threshold too tight|customer confirmed OK',
);
const METRICS = list('pressure|flow|level|temperature|chlorine|turbidity|battery|signal|conductivity|ph');
const UNITS = new Map(
  list('pressure=bar|flow=l/s|level=m|temperature=°C|chlorine=mg/l|turbidity=NTU|battery=V|signal=dBm|ph=pH')
    .concat('conductivity=µS/cm')
    .map((kv) => kv.split('=') as [string, string]),
);
const COMPONENTS = list('motor|pump|bearing_de|bearing_nde|vfd|inlet|outlet|seal');
const MACHINE_METRICS = list('vibration_rms|temperature|current|speed|pressure');
const PS_METRICS = list('bearing-temp|motor-current|vibration|run-hours|starts|discharge-pressure');
const OPS = list('<|>|<=|>=|=|≤|≥|≈');
const PERIODS = list('last week|yesterday|today|last 24h|this month|since Monday|in October|last 7 days');
const DAYS = list('Monday|Tuesday|Wednesday|Thursday|Friday|the 12th|end of month');
const CURRENCIES = list('$|€|£|CHF ');
const QUALITIES = list('good|suspect|estimated|bad');
const PLACES = list('school|hospital|roundabout|station|depot|bridge|playground|market hall');
const SEVERITIES = list('info|warning|major|critical');

// --- Multilingual templates ----------------------------------------------------------------

type Fill = Record<'p' | 'cl' | 't' | 'v' | 'site', string> & { n: number; l: number };

const LANG_TEMPLATES: readonly ((f: Fill) => string)[] = [
  (f) => `Pumpe ${f.n} in ${f.site}: Druck ${comma(f.p)} bar, Füllstand ${f.l} % (${f.t}).`,
  (f) => `Batteriespannung Logger ${f.n}: ${comma(f.v)} V – Austausch einplanen.`,
  (f) => `Pompe ${f.n} à ${f.site} : pression ${comma(f.p)} bar, niveau ${f.l} %, c'est normal.`,
  (f) => `Chlore résiduel ${comma(f.cl)} mg/l au réservoir ${f.n} à ${f.t}, l'équipe vérifie.`,
  (f) => `Bomba ${f.n} en ${f.site}: presión ${comma(f.p)} bar, nivel ${f.l} % a las ${f.t}.`,
  (f) => `Bomba ${f.n}: pressão ${comma(f.p)} bar, nível ${f.l}% às ${f.t}.`,
  (f) => `Pompa ${f.n} all'impianto di ${f.site}: pressione ${comma(f.p)} bar, livello ${f.l}%.`,
  (f) => `Pomp ${f.n}: druk ${comma(f.p)} bar, niveau ${f.l}% om ${f.t}.`,
  (f) => `Pompa nr ${f.n}: ciśnienie ${comma(f.p)} bar, poziom ${f.l}%, godz. ${f.t}.`,
  (f) => `Čerpadlo ${f.n}: tlak ${comma(f.p)} bar, hladina ${f.l} % v ${f.t}.`,
  (f) => `Pompa ${f.n}: basınç ${comma(f.p)} bar, seviye %${f.l}, saat ${f.t}.`,
  (f) => `Pump ${f.n}: tryck ${comma(f.p)} bar, nivå ${f.l} % kl. ${f.t}.`,
  (f) => `Pumppu ${f.n}: paine ${comma(f.p)} bar, pinta ${f.l} % klo ${f.t}.`,
  (f) => `Αντλία ${f.n}: πίεση ${comma(f.p)} bar, στάθμη ${f.l}% στις ${f.t}.`,
  (f) => `Насос №${f.n}: давление ${comma(f.p)} бар, уровень ${f.l} % в ${f.t}.`,
  (f) => `Насос №${f.n}: тиск ${comma(f.p)} бар, рівень ${f.l} % о ${f.t}.`,
  (f) => `المضخة ${f.n}: الضغط ${f.p} بار، المستوى ${f.l}٪ الساعة ${f.t}.`,
  (f) => `משאבה ${f.n}: לחץ ${f.p} בר, מפלס ${f.l}% בשעה ${f.t}.`,
  (f) => `پمپ ${f.n}: فشار ${f.p} بار، سطح ${f.l}٪ ساعت ${f.t}.`,
  (f) => `पंप ${f.n}: दबाव ${f.p} बार, स्तर ${f.l}%, समय ${f.t}।`,
  (f) => `পাম্প ${f.n}: চাপ ${f.p} বার, স্তর ${f.l}%, সময় ${f.t}।`,
  (f) => `ปั๊ม ${f.n}: แรงดัน ${f.p} บาร์ ระดับ ${f.l}% เวลา ${f.t}`,
  (f) => `Bơm ${f.n}: áp lực ${comma(f.p)} bar, mực nước ${f.l}% lúc ${f.t}.`,
  (f) => `Pompa ${f.n}: tekanan ${comma(f.p)} bar, level ${f.l}% pukul ${f.t}.`,
  (f) => `${f.n}号泵：压力 ${f.p} bar，液位 ${f.l}%，时间 ${f.t}。`,
  (f) => `${f.n}號泵：壓力 ${f.p} bar，水位 ${f.l}%，時間 ${f.t}。`,
  (f) => `${f.n}号ポンプ：圧力 ${f.p} bar、水位 ${f.l}%（${f.t}）。`,
  (f) => `${f.n}번 펌프: 압력 ${f.p} bar, 수위 ${f.l}% (${f.t}).`,
  (f) => `Pampu ${f.n}: shinikizo bar ${f.p}, kiwango ${f.l}% saa ${f.t}.`,
  (f) => `Residual chlorine ${f.cl} mg/l at ${f.site}, it's within limits.`,
];

// --- Generators ---------------------------------------------------------------------------

/** `count` strings, taking the forms in turn. */
function cycle(count: number, forms: readonly ((i: number) => string)[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(forms[i % forms.length]?.(i) ?? '');
  return out;
}

function assetId(rng: Rng): string {
  const prefix = pick(rng, ID_PREFIX);
  return prefix === 'LG' ? `LG-${pad(int(rng, 1, 2400), 4)}` : `${prefix}-${int(rng, 1, 120)}`;
}

function sensorKeys(): string[] {
  const out: string[] = [];
  for (const letter of ['h', 'l', 'n', 's']) {
    for (let n = 1; n <= 3; n++) for (const m of METRICS) out.push(`dma-${letter}${n}/${m}`);
  }
  for (let n = 1; n <= 8; n++) {
    for (const c of COMPONENTS) for (const m of MACHINE_METRICS) out.push(`pump_station_${n}.${c}.${m}`);
  }
  for (let s = 1; s <= 10; s++) {
    for (let p = 1; p <= 4; p++) for (const m of PS_METRICS) out.push(`PS-${pad(s, 2)}/P-${p}/${m}`);
  }
  return out;
}

const SENSOR_KEYS = sensorKeys();

function hierarchies(): string[] {
  const out: string[] = [];
  for (const org of ORGS) {
    for (const [z, zone] of ZONES.entries()) {
      for (let d = 1; d <= 6; d++) out.push(`${org} / Zone ${zone} / DMA ${d + z * 6}`);
    }
  }
  for (let line = 1; line <= 6; line++) {
    for (const machine of ['CNC-04', 'Press HP-3', 'Conveyor 2', 'Compressor C-2', 'Chiller CH-1']) {
      out.push(`Hilltop Plant > Line ${line} > ${machine} > ${line % 2 === 0 ? 'Drive' : 'Spindle'}`);
    }
  }
  return out;
}

function languageNotes(rng: Rng, count: number): string[] {
  const fill = (): Fill => ({
    n: int(rng, 1, 12),
    p: dec(rng, 0.5, 7.5, 1),
    l: int(rng, 5, 100),
    cl: dec(rng, 0.05, 1.2, 2),
    t: clock(rng),
    v: dec(rng, 3, 3.7, 2),
    site: pick(rng, SITES),
  });
  return cycle(
    count,
    LANG_TEMPLATES.map((template) => () => template(fill())),
  );
}

function notes(rng: Rng, count: number): string[] {
  const site = () => pick(rng, SITES);
  const who = () => pick(rng, PEOPLE);
  const templates: readonly (() => string)[] = [
    () => `${who()} replaced the ${pick(rng, PARTS)} on ${assetId(rng)} at ${site()}; it's running fine now.`,
    () =>
      `Pressure drop of ${dec(rng, 0.2, 2.5, 1)} bar at ${site()} / Zone ${pick(rng, ZONES)} between ${clock(rng)} and ${clock(rng)}.`,
    () =>
      `${pick(rng, ASSET_TYPES)} (${assetId(rng)}) at ${site()}: ${pick(rng, ISSUES)}. ${pick(rng, ACTIONS)}.`,
    () => `Alarm on ${pick(rng, SENSOR_KEYS)} acknowledged by ${who()}: ${pick(rng, REASONS)}.`,
    () =>
      `Order by ${pick(rng, DAYS)}: ${int(rng, 1, 12)} × ${pick(rng, PARTS)} for ${assetId(rng)}, cost ${pick(rng, CURRENCIES)}${int(rng, 20, 4000)}; see ticket #${int(rng, 1000, 9999)}.`,
    () =>
      `Update from ${who()}: ${pick(rng, ASSET_TYPES)} at ${site()} is back in service after the ${pick(rng, PARTS)} change.`,
    () =>
      `"${pick(rng, ASSET_TYPES)} ${int(rng, 1, 9)}" at ${site()} reported as '${pick(rng, ['fine', 'noisy', 'off', 'hunting'])}' by ${who()}.`,
    () =>
      `Drop in ${pick(rng, METRICS)} at ${site()} from ${clock(rng)}; ${pick(rng, ISSUES)} suspected, ${pick(rng, ACTIONS)}.`,
    () =>
      `Logger ${assetId(rng)} back from sleep mode after ${int(rng, 2, 48)} h, battery ${dec(rng, 3.1, 3.7, 2)} V.`,
    () =>
      `Leak near the ${pick(rng, PLACES)} in ${site()}, about ${dec(rng, 0.2, 8, 1)} l/s; ${who()}'s crew on the way.`,
    () =>
      `Either ${int(rng, 1, 4)} or ${int(rng, 5, 9)} pumps should run at ${site()} during peak, not all of them.`,
    () => `Ping from ${assetId(rng)} lost at ${clock(rng)}, back at ${clock(rng)} (${pick(rng, REASONS)}).`,
  ];
  return cycle(count, [() => pick(rng, templates)()]);
}

function conditions(rng: Rng, count: number): string[] {
  const cond = (max: number) => {
    const m = pick(rng, METRICS);
    return `${m} ${pick(rng, OPS)} ${dec(rng, 0, max, 1)} ${UNITS.get(m) ?? ''}`.trim();
  };
  const severity = () => pick(rng, SEVERITIES);
  return cycle(count, [
    () => `${cond(12)} & ${cond(50)} → ${severity()}`,
    () => `${cond(12)} | ${severity()}`,
    () => `If ${cond(12)} for > ${int(rng, 2, 30)} min, raise ${severity()} on ${pick(rng, SENSOR_KEYS)}`,
    () =>
      `cost ${pick(rng, CURRENCIES)}${int(rng, 1, 9)},${pad(int(rng, 0, 999), 3)}; see ticket #${int(rng, 1000, 9999)}`,
    () => `${assetId(rng)} (DN${pick(rng, [80, 100, 150, 200, 300, 400])}) [${int(rng, 0, 100)}% open]`,
    () => `${cond(12)}; ${cond(50)} (${int(rng, 1, 3)}/${int(rng, 4, 8)} of design)`,
  ]);
}

function searches(rng: Rng, count: number): string[] {
  return cycle(count, [
    () => `${pick(rng, ASSET_TYPES)} ${int(rng, 1, 12)} ${pick(rng, METRICS)} ${pick(rng, PERIODS)}`,
    () => `leak OR burst near ${pick(rng, PLACES)} ${pick(rng, PERIODS)}`,
    () => `"${pick(rng, ISSUES)}" ${pick(rng, SITES)}`,
    () =>
      `${pick(rng, METRICS)} ${pick(rng, OPS)} ${dec(rng, 0, 10, 1)} zone ${pick(rng, ZONES).toLowerCase()}`,
    () => `${pick(rng, PEOPLE)} ${pick(rng, PARTS)}`,
  ]);
}

function readings(rng: Rng, count: number): string[] {
  const key = () => pick(rng, SENSOR_KEYS);
  const ts = (i: number) => isoAt(i * 7 + int(rng, 0, 6));
  const value = (max: number, digits: number) => Number(dec(rng, 0, max, digits));
  return cycle(count, [
    (i) => JSON.stringify({ sensor: key(), ts: ts(i), value: value(120, 2), quality: pick(rng, QUALITIES) }),
    (i) => {
      const at = ts(i);
      return JSON.stringify({
        readings: [
          { sensor: key(), ts: at, value: value(120, 2) },
          { sensor: key(), ts: at, value: value(10, 3) },
        ],
      });
    },
    (i) =>
      JSON.stringify([
        {
          bn: `urn:dev:mac:${Array.from({ length: 8 }, () => hex2(rng)).join('')}:`,
          bt: Math.floor((BASE_TIME + i * 60_000) / 1000),
          n: 'pressure',
          u: 'bar',
          v: Number(dec(rng, 1, 7, 2)),
        },
        { n: 'temp', u: 'Cel', v: Number(dec(rng, 4, 30, 1)) },
        { n: 'battery', u: 'V', v: Number(dec(rng, 3.1, 3.7, 2)) },
      ]),
    (i) =>
      JSON.stringify({
        sensor: key(),
        ts: ts(i),
        value: value(120, 2),
        note: pick(rng, REASONS),
        by: pick(rng, PEOPLE),
      }),
  ]);
}

function lineProtocol(rng: Rng, count: number): string[] {
  const site = () => pick(rng, ['riverside', 'hilltop', 'westfield', 'old\\ mill', 'northgate']);
  const ns = (i: number) => `${BASE_TIME + i * 60_000 + int(rng, 0, 59_999)}000000`;
  return cycle(count, [
    (i) =>
      `${pick(rng, METRICS)},site=${site()},zone=${pick(rng, ZONES).toLowerCase().replace(' ', '\\ ')} value=${dec(rng, 0, 100, 2)},quality="good" ${ns(i)}`,
    (i) =>
      `${pick(rng, METRICS)},site=${site()},dma=${int(rng, 1, 40)} value=${dec(rng, 0, 100, 2)} ${ns(i)}`,
    (i) =>
      `pump,station=ps-${pad(int(rng, 1, 10), 2)},unit=p-${int(rng, 1, 4)} running=true,current=${dec(rng, 10, 60, 1)},note="it's ${pick(rng, ['fine', 'noisy', 'hot'])}" ${ns(i)}`,
  ]);
}

function csv(rng: Rng, count: number): string[] {
  const at = (i: number) => new Date(BASE_TIME + i * 300_000);
  const european = (d: Date) =>
    `${pad(d.getUTCDate(), 2)}.${pad(d.getUTCMonth() + 1, 2)}.${d.getUTCFullYear()} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}`;
  const rows = cycle(count, [
    (i) => `${at(i).toISOString()},${pick(rng, SENSOR_KEYS)},${dec(rng, 0, 200, 2)},${pick(rng, QUALITIES)}`,
    (i) =>
      `${european(at(i))};${pick(rng, SENSOR_KEYS)};${comma(dec(rng, 0, 200, 2))};${pick(rng, QUALITIES)}`,
    () =>
      `${assetId(rng)},"${pick(rng, ASSET_TYPES)}, ${pick(rng, SITES)}",${pick(rng, SITES)},${pick(rng, ZONES)},${pick(rng, ASSET_TYPES)}`,
  ]);
  return [
    ...list('timestamp,sensor,value,quality|Zeitstempel;Sensor;Wert;Qualität|id,name,site,zone,type'),
    ...rows,
  ];
}

function identities(rng: Rng, count: number): string[] {
  const ver = () => `${int(rng, 1, 4)}.${int(rng, 0, 20)}.${int(rng, 0, 30)}`;
  return cycle(count, [
    () => `v${ver()}`,
    () => `${ver()}-rc.${int(rng, 1, 5)}+build.${int(rng, 1000, 9999)}`,
    () => `FW ${ver()} (2026-${pad(int(rng, 1, 11), 2)}-${pad(int(rng, 1, 28), 2)})`,
    (i) => Array.from({ length: 6 }, () => hex2(rng).toUpperCase()).join(i % 12 === 3 ? ':' : '-'),
    () => `SN-${int(rng, 2019, 2026)}-${pad(int(rng, 1, 999_999), 6)}`,
    () =>
      JSON.stringify({
        type: 'Feature',
        geometry: {
          type: 'Point',
          coordinates: [Number(dec(rng, -9.5, 25, 5)), Number(dec(rng, 36, 60, 5))],
        },
        properties: { id: assetId(rng), name: `${pick(rng, ASSET_TYPES)} at ${pick(rng, SITES)}` },
      }),
  ]);
}

function markdownNotes(rng: Rng, count: number): string[] {
  return cycle(count, [
    () =>
      `### ${assetId(rng)} at ${pick(rng, SITES)}\n- **Issue:** ${pick(rng, ISSUES)}\n- *Action:* ${pick(rng, ACTIONS)}\n- Owner: @${pick(rng, PEOPLE).split(' ')[0] ?? ''}`,
    () =>
      `Called \`${pick(rng, ['valve', 'pump', 'logger'])}.${pick(rng, ['close', 'open', 'reset', 'sync'])}()\` on ${assetId(rng)}; **${pick(rng, REASONS)}**.`,
  ]);
}

function contacts(rng: Rng, count: number): string[] {
  const domains = list('riverside-water.example|hilltop-plant.example|eaux-ouest.example|stadtwerke.example');
  return cycle(count, [
    () => `${pick(rng, PEOPLE).toLowerCase().replace(/\s+/g, '.')}@${pick(rng, domains)}`,
    () =>
      `+${pick(rng, [44, 49, 33, 39, 34, 31, 1])} ${int(rng, 10, 99)} ${int(rng, 1000, 9999)} ${int(rng, 1000, 9999)}`,
    (i) =>
      `https://vigil.example/sensors/${encodeURIComponent(pick(rng, SENSOR_KEYS))}?from=${isoAt(i)}&to=${isoAt(i + 1440)}`,
  ]);
}

function userAgents(): string[] {
  const out: string[] = [];
  for (let v = 118; v <= 131; v++) {
    out.push(
      `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`,
      `Mozilla/5.0 (X11; Linux x86_64; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`,
    );
  }
  for (let minor = 25; minor <= 32; minor++) out.push(`Telegraf/1.${minor}.0 Go/1.2${minor % 4}.1`);
  for (let minor = 0; minor <= 11; minor++)
    out.push(`curl/8.${minor}.0`, `python-requests/2.${minor + 21}.0`);
  for (let major = 9; major <= 11; major++) {
    for (let minor = 0; minor <= 4; minor++) out.push(`Grafana/${major}.${minor}.0`);
  }
  return out;
}

// --- Corpus ---------------------------------------------------------------------------------

/** At least 6,000 distinct benign strings, the same on every call. */
export function benignCorpus(): string[] {
  const rng = mulberry32(0x5eed_2026);
  const all: string[] = [
    ...NOTES_EN,
    ...SYMBOLS,
    ...MULTILINGUAL,
    ...SEARCHES,
    ...CONTACT_AND_LINKS,
    ...USER_AGENTS,
    ...MARKDOWN,
    ...SENSOR_KEYS,
    ...hierarchies(),
    ...userAgents(),
    ...languageNotes(rng, 900),
    ...notes(rng, 1500),
    ...conditions(rng, 600),
    ...searches(rng, 500),
    ...readings(rng, 700),
    ...lineProtocol(rng, 450),
    ...csv(rng, 450),
    ...identities(rng, 450),
    ...markdownNotes(rng, 200),
    ...contacts(rng, 200),
  ];
  return [...new Set(all.filter((s) => s.length > 0))];
}
