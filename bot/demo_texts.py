"""Prompt/output templates for the demo's example trainer outputs (see ``bot.demo_data``).

Each :class:`Template` holds a prompt, a good answer and two flawed answers (one minor, one
major). A flawed answer really contains its flaw, and the flaw's category and explanation are
stored next to it, so a simulated reviewer can name exactly what is wrong. Texts are
``str.format`` patterns filled from one of the template's ``slots``; slots whose numbers must
add up (finance, dates) are computed by small helpers so the good answers stay correct.

Two templates per domain are long (``long=True``, over 3000 characters) so that the bot's
"Show full" path has something to show.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

ERROR_CATEGORIES: dict[str, tuple[str, ...]] = {
    "clinical": (
        "Clinical reasoning", "Factual error", "Unsafe advice", "Instruction not followed", "Other",
    ),
    "legal": (
        "Misstated law", "Missed clause or risk", "Jurisdiction error",
        "Instruction not followed", "Other",
    ),
    "finance": (
        "Calculation error", "Misread statement", "Unsupported claim",
        "Instruction not followed", "Other",
    ),
}


@dataclass(frozen=True)
class Flaw:
    grade: str  # "minor" | "major"
    category: str
    output: str
    explanation: str


@dataclass(frozen=True)
class Template:
    key: str  # "<domain>.<name>"
    project: str
    prompt: str
    good: str
    good_note: str  # why the good answer is right (gold note of a known-good calibration item)
    minor: Flaw
    major: Flaw
    slots: tuple[dict[str, str], ...]
    long: bool = False

    @property
    def domain(self) -> str:
        return self.key.split(".", 1)[0]


def fill(pattern: str, values: Mapping[str, str]) -> str:
    """``pattern`` with its slots filled; "Foods's" becomes "Foods'"."""
    return _POSSESSIVE.sub("s'", pattern.format_map(values))


_POSSESSIVE = re.compile(r"(?<=[a-z])s's\b")


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _m(value: float) -> str:
    return f"{value:,.1f}"


def _minor(category: str, output: str, explanation: str) -> Flaw:
    return Flaw("minor", category, output, explanation)


def _major(category: str, output: str, explanation: str) -> Flaw:
    return Flaw("major", category, output, explanation)


# --------------------------------------------------------------------------------------------
# Clinical
# --------------------------------------------------------------------------------------------

_CHEST_GOOD = (
    "This is a possible acute coronary syndrome and should be triaged as emergent (ESI level 2, "
    "or level 1 if the patient becomes unstable). Move the patient straight to a monitored area "
    "and record a 12-lead ECG, read by a clinician, within {ecg} minutes of arrival. Check vital "
    "signs and oxygen saturation, place IV access, and give chewable aspirin 162–325 mg per "
    "protocol if there is no allergy or active bleeding. The patient must not wait in the general "
    "queue or be allowed to drive elsewhere."
)

_CKD_TAIL = (
    " Paracetamol (acetaminophen) at regular doses, up to 3 g a day, is the safest first choice "
    "for {pain}. Heat packs, gentle exercise and physiotherapy may also help. If the pain is not "
    "controlled within a week, the patient should see their GP or renal team rather than add "
    "over-the-counter products."
)

_FEVER_GOOD = (
    "Because your baby is under three months old, a temperature of {temp} °C needs to be checked "
    "by a doctor today, even if your baby seems fairly well. Please take your baby to the "
    "emergency department or an urgent same-day appointment now; do not wait to see if the fever "
    "goes down. Do not give any fever medicine before a doctor has seen your baby unless a doctor "
    "tells you to. Call 911 straight away if your baby is hard to wake, has trouble breathing, "
    "turns blue or floppy, or has a rash that does not fade when pressed."
)

_HEADACHE_GOOD = (
    "A thunderclap headache like this must be treated as a possible subarachnoid haemorrhage "
    "until proven otherwise, even with {exam_short}. The patient needs emergency assessment and a "
    "non-contrast CT head as soon as possible. CT is most sensitive within 6 hours of onset; if it "
    "is normal but was done later, a lumbar puncture at least {lp} hours after onset is needed to "
    "look for xanthochromia. Give analgesia and an antiemetic while awaiting imaging, and do not "
    "discharge with a diagnosis of migraine."
)

_STROKE_GOOD = (
    "These are signs of a stroke and this is an emergency: call an ambulance (911) now rather "
    "than driving to a GP or waiting to see whether it passes. Note the time the patient was last "
    "seen well ({lkw}), because clot-busting treatment is only possible within {window} of that "
    "time. Do not give the patient anything to eat or drink, including aspirin, until they have "
    "been assessed. Keep the patient safe and stay with them until help arrives."
)

_AF_HEAD = (
    "DISCHARGE SUMMARY — FOR THE GENERAL PRACTITIONER\n\n"
    "Patient: {name}, {age} years. Admitted: {adm}. Discharged: {dis}. Team: Acute Medicine with "
    "Cardiology input.\n\n"
    "Reason for admission\n"
    "{name} presented with palpitations and breathlessness. The ECG on arrival showed new atrial "
    "fibrillation with a rapid ventricular response (heart rate 148 bpm). {pron} was "
    "haemodynamically stable, with no chest pain and no clinical signs of heart failure.\n\n"
    "Diagnoses\n"
    "1. New-onset atrial fibrillation with rapid ventricular response, now rate controlled.\n"
    "2. Acute kidney injury (creatinine 168 µmol/L on admission, baseline 96), attributed to "
    "naproxen use and dehydration; resolving (creatinine 104 µmol/L on discharge).\n"
    "3. Background: hypertension; osteoarthritis of both knees.\n\n"
    "Hospital course\n"
    "Rate control was achieved with intravenous and then oral bisoprolol; heart rate on discharge "
    "was 78–86 bpm in AF. Naproxen was stopped on admission and {poss} kidney function improved "
    "with intravenous fluids. The transthoracic echocardiogram showed a mildly dilated left "
    "atrium and a left ventricular ejection fraction of 55%, with no significant valve disease. "
    "Thyroid function was normal. The CHA2DS2-VASc score is {chads} and the ORBIT bleeding score "
    "is low, so anticoagulation with apixaban was started after a discussion of risks and "
    "benefits, and {pron_l} agreed to treatment.\n\n"
    "Key results\n"
    "Haemoglobin 138 g/L, platelets 251 ×10⁹/L, creatinine 168 → 104 µmol/L, eGFR 29 → 48, "
    "potassium 4.6 mmol/L, TSH 1.8 mU/L, troponin not raised on two samples 3 hours apart. "
    "Chest X-ray: no consolidation or pulmonary oedema.\n\n"
    "Function and social\n"
    "Lives with {poss} partner and is independent with all activities of daily living, "
    "mobilising without aids. No new care needs on discharge; district nurse input is not "
    "required. {pron} has been advised not to "
    "drive if {pron_l} feels dizzy or has palpitations."
)

_AF_MEDS_TAIL = (
    "- Bisoprolol 2.5 mg once daily — NEW (rate control).\n"
    "- Amlodipine 5 mg once daily — unchanged.\n"
    "- Atorvastatin 20 mg at night — unchanged.\n"
)

_AF_MEDS_GOOD = (
    "Medications on discharge\n"
    "- Apixaban 5 mg twice daily — NEW (stroke prevention in AF); dose-reduction criteria are "
    "not met.\n" + _AF_MEDS_TAIL
    + "- Paracetamol 1 g up to four times daily when needed — NEW (knee pain).\n\n"
    "Medications stopped\n"
    "- Naproxen 500 mg twice daily — STOPPED because of the acute kidney injury and the bleeding "
    "risk with apixaban. Please do not restart."
)

_AF_MEDS_BAD = (
    "Medications on discharge\n"
    "- Apixaban 5 mg twice daily — NEW (stroke prevention in AF).\n" + _AF_MEDS_TAIL
    + "- Naproxen 500 mg twice daily — continue for knee pain as before.\n"
    "- Paracetamol 1 g up to four times daily when needed — NEW (knee pain).\n\n"
    "Medications stopped\n"
    "- None."
)

_AF_FU_U_AND_E = (
    "1. Please repeat urea and electrolytes in 1 week to confirm that kidney function continues "
    "to recover on apixaban.\n"
)

_AF_FU_REST = (
    "Cardiology outpatient clinic in 8 weeks (booked by the hospital); DC cardioversion will be "
    "considered if {pron_l} remains symptomatic despite rate control.\n"
    "{n2}. Please review the apixaban dose if creatinine rises above 133 µmol/L together with age "
    "80 or over or weight 60 kg or less.\n"
    "{n3}. Annual review of anticoagulation, renal function and full blood count.\n\n"
    "Advice given to the patient\n"
    "{pron} has been advised not to take ibuprofen, naproxen or other anti-inflammatory "
    "painkillers and to use paracetamol for knee pain. {pron} knows the bleeding warning signs "
    "(black stools, blood in the urine, vomiting blood, severe headache, unusual bruising) and to "
    "seek urgent help if they occur. {pron} has been given an anticoagulant alert card and a "
    "leaflet about atrial fibrillation, and knows to report palpitations with dizziness or "
    "breathlessness the same day."
)

_AF_FU_GOOD = "Follow-up actions\n" + _AF_FU_U_AND_E + "2. " + _AF_FU_REST.replace(
    "{n2}", "3").replace("{n3}", "4")
_AF_FU_BAD = "Follow-up actions\n1. " + _AF_FU_REST.replace("{n2}", "2").replace("{n3}", "3")

_COPD_HEAD = (
    "Dear {title},\n\n"
    "You were in hospital from {adm} to {dis} because of a flare-up of your COPD (chronic "
    "obstructive pulmonary disease). Your chest X-ray did not show pneumonia. You were treated "
    "with steroid tablets, an antibiotic and nebulisers, and your breathing is now back close to "
    "your usual level. This letter explains your medicines and what happens next. Please keep it "
    "and show it to your GP and pharmacist.\n\n"
    "Your medicines\n"
)

_COPD_STEROID_GOOD = (
    "- Prednisolone 30 mg (six 5 mg tablets) once a day with breakfast. You had 2 days in "
    "hospital; take it for 3 more days at home, then stop. This is a short course, so you do not "
    "need to reduce the dose slowly.\n"
)

_COPD_STEROID_BAD = (
    "- Prednisolone 30 mg (six 5 mg tablets) once a day with breakfast. Take it for 5 weeks at "
    "home, then stop.\n"
)

_COPD_MIDDLE = (
    "- Doxycycline 100 mg once a day for 3 more days to finish a 5-day course. Swallow it with a "
    "full glass of water while sitting or standing, and avoid strong sunlight.\n"
    "- Keep using your usual inhaler: {inhaler}. Rinse your mouth after using it.\n"
    "- Your other usual medicines have not changed; keep taking them as before.\n"
    "- Salbutamol (blue reliever inhaler) 2 puffs when you are breathless, up to 4 times a day. "
    "If you need it more often than that, call your GP.\n\n"
    "Using your inhalers\n"
    "A nurse checked how you use your inhalers before you went home. Breathe out fully before "
    "each dose, seal your lips around the mouthpiece, and hold your breath for up to 10 seconds "
    "afterwards. Bring your inhalers to your GP appointment so your technique can be checked "
    "again.\n\n"
    "Your rescue pack\n"
    "We have given you a rescue pack of steroid tablets and an antibiotic to keep at home. "
)

_COPD_RESCUE_GOOD = (
    "Start it only if you are more breathless than usual AND your phlegm has changed colour or "
    "there is more of it. If you start it, call your GP surgery the same day so they know.\n\n"
)

_COPD_RESCUE_BAD = (
    "Start it as soon as you notice any new cough, so that a flare-up does not get going. You do "
    "not need to tell your GP when you start it.\n\n"
)

_COPD_TAIL = (
    "What happens next\n"
    "- Your GP will see you in about 2 weeks to check your breathing and your medicines.\n"
    "- We have referred you to pulmonary rehabilitation, a 6–8 week exercise and education "
    "course that helps people with COPD do more with less breathlessness. The team will contact "
    "you with a start date.\n"
    "- You will have a breathing test (spirometry) once you have fully recovered.\n\n"
    "Looking after yourself at home\n"
    "- Keep active: walk a little further each day and rest when you need to. Feeling a little "
    "breathless when you move is normal and not harmful.\n"
    "- Eat small, regular meals and drink plenty of fluids.\n"
    "- Steroid tablets can raise your blood sugar and make it harder to sleep. Take them in the "
    "morning, and tell your GP if you feel very thirsty or are passing a lot of urine.\n"
    "- Make sure you have had this year's flu vaccine, and ask your GP whether you are due a "
    "pneumonia or RSV vaccine.\n"
    "- Use the breathing-control and pursed-lip breathing exercises the physiotherapist showed "
    "you whenever you feel breathless.\n\n"
    "Smoking\n"
    "You told us you smoke about {cigs} cigarettes a day. Stopping smoking is the single most "
    "helpful thing you can do for your lungs, and it is never too late. We have referred you to "
    "the stop-smoking service, which can offer nicotine replacement or medicine and weekly "
    "support; it is free.\n\n"
    "When to get help\n"
    "Call 911 if you are too breathless to speak in full sentences, your lips or fingers look "
    "blue, you feel confused or very drowsy, or you have chest pain. Call your GP the same day "
    "if your breathing is getting worse despite your medicines, or if you have a fever.\n\n"
    "If you have any questions about this letter, call the ward on 020 7946 0123 at any time.\n\n"
    "With best wishes for your recovery,\n"
    "The Respiratory Team, Ward 7B"
)

CLINICAL: tuple[Template, ...] = (
    Template(
        key="clinical.chest_pain",
        project="clinical-triage-v2",
        prompt=(
            "Triage question: A {age}-year-old {sex} walks into urgent care with {duration} of "
            "central chest pressure spreading to the left arm, with sweating and nausea. Past "
            "history: {history}. What triage level would you assign, and what should happen first?"
        ),
        good=_CHEST_GOOD.replace("{ecg}", "10"),
        good_note="Correct: emergent triage, ECG within 10 minutes, aspirin per protocol.",
        minor=_minor(
            "Factual error",
            _CHEST_GOOD.replace("{ecg}", "30"),
            "Says the 12-lead ECG can wait up to 30 minutes; for suspected ACS it must be "
            "recorded and read within 10 minutes of arrival.",
        ),
        major=_major(
            "Unsafe advice",
            "Given the history of {history}, this sounds most like reflux or a muscular strain "
            "rather than a cardiac event. I would assign ESI level 4 (non-urgent), offer an "
            "antacid and ask the patient to wait in the general queue. If the pain is still there "
            "after two hours, an ECG can be considered.",
            "Triages classic ACS symptoms (chest pressure to the left arm with sweating and "
            "nausea) as ESI 4 with an antacid and a 2-hour wait; this needs emergent triage and "
            "an ECG within 10 minutes.",
        ),
        slots=(
            {"age": "58", "sex": "man", "duration": "40 minutes",
             "history": "hypertension and type 2 diabetes"},
            {"age": "64", "sex": "woman", "duration": "an hour",
             "history": "high cholesterol and a 30 pack-year smoking history"},
            {"age": "51", "sex": "man", "duration": "25 minutes",
             "history": "a coronary stent placed in 2021"},
        ),
    ),
    Template(
        key="clinical.ckd_pain",
        project="clinical-meds-v2",
        prompt=(
            "Medication question: A {age}-year-old with chronic kidney disease stage {stage} "
            "(eGFR {egfr} mL/min/1.73m²) asks what they can take for {pain}. Current medicines: "
            "{meds}. What do you advise?"
        ),
        good=(
            "Avoid NSAIDs such as ibuprofen, naproxen and diclofenac tablets: in CKD stage "
            "{stage}, and especially alongside {meds_short}, they reduce blood flow to the "
            "kidneys and can cause acute kidney injury." + _CKD_TAIL
        ),
        good_note="Correct: avoids NSAIDs in CKD and recommends paracetamol within dose limits.",
        minor=_minor(
            "Factual error",
            "Avoid NSAIDs such as ibuprofen and naproxen, because they are excreted unchanged by "
            "the kidneys and will build up to toxic levels in CKD stage {stage}." + _CKD_TAIL,
            "Gives the wrong reason for avoiding NSAIDs (says they are excreted unchanged and "
            "accumulate); the risk is reduced kidney blood flow and acute kidney injury, made "
            "worse by {meds_short}.",
        ),
        major=_major(
            "Unsafe advice",
            "Ibuprofen 400 mg three times a day with food is a good option for {pain} and works "
            "better than paracetamol for inflammatory pain. It can be taken with {meds} without "
            "any change. If needed, the dose can go up to 600 mg three times a day for a week. "
            "Paracetamol can be added on top if the pain is severe.",
            "Recommends ibuprofen 400–600 mg three times a day despite stated CKD stage {stage} "
            "(eGFR {egfr}) and {meds_short}; NSAIDs here risk acute kidney injury.",
        ),
        slots=(
            {"age": "67", "stage": "3b", "egfr": "38", "pain": "knee osteoarthritis",
             "meds": "lisinopril 20 mg and furosemide 40 mg",
             "meds_short": "an ACE inhibitor and a diuretic"},
            {"age": "72", "stage": "4", "egfr": "24", "pain": "lower back pain",
             "meds": "ramipril 5 mg and amlodipine 10 mg", "meds_short": "ramipril"},
            {"age": "59", "stage": "3a", "egfr": "52", "pain": "shoulder tendinitis",
             "meds": "losartan 50 mg and metformin 500 mg", "meds_short": "losartan"},
        ),
    ),
    Template(
        key="clinical.infant_fever",
        project="clinical-triage-v2",
        prompt=(
            "Phone triage: A parent calls about their {age_text} baby, who has a temperature of "
            "{temp} °C taken {route}. The baby is {behaviour}. Write the advice the nurse should "
            "give, in plain language the nurse can read out to the parent."
        ),
        good=_FEVER_GOOD,
        good_note="Correct: any fever under 3 months needs same-day medical assessment.",
        minor=_minor(
            "Instruction not followed",
            "In an infant under 90 days a temperature of {temp} °C meets the threshold for a "
            "serious bacterial infection work-up. The infant requires same-day ED evaluation with "
            "a full septic screen, including CBC, CRP or procalcitonin, blood culture, urinalysis "
            "and possibly LP. Antipyretics should be withheld pending assessment. Activate EMS "
            "for lethargy, respiratory distress, cyanosis or a non-blanching rash.",
            "The advice is medically right but written in clinical jargon (septic screen, "
            "procalcitonin, LP, EMS) although the prompt asked for plain language to read to "
            "the parent.",
        ),
        major=_major(
            "Clinical reasoning",
            "Because your baby is {behaviour_short}, this is most likely a mild viral illness. "
            "Give infant paracetamol, keep your baby lightly dressed and offer feeds often. Watch "
            "your baby at home for the next 48 hours and call back if the fever is still there "
            "after that.",
            "Advises 48 hours of home care for a febrile {age_text} infant; any fever of 38 °C "
            "or more under 3 months of age needs same-day medical assessment.",
        ),
        slots=(
            {"age_text": "6-week-old", "temp": "38.4", "route": "rectally",
             "behaviour": "feeding a little less than usual but settles when held",
             "behaviour_short": "settling when held"},
            {"age_text": "10-week-old", "temp": "38.2", "route": "rectally",
             "behaviour": "sleepier than usual but waking for feeds",
             "behaviour_short": "still waking for feeds"},
            {"age_text": "5-week-old", "temp": "38.6", "route": "rectally",
             "behaviour": "alert and feeding normally", "behaviour_short": "alert and feeding"},
        ),
    ),
    Template(
        key="clinical.warfarin",
        project="clinical-meds-v2",
        prompt=(
            "Medication question: A patient on long-term warfarin (target INR 2–3, last INR {inr} "
            "two weeks ago) has just been prescribed {abx} for {infection}. What should the "
            "pharmacist advise?"
        ),
        good=(
            "{abx_cap} is known to increase the effect of warfarin and can push the INR up "
            "sharply within a few days. Ask the prescriber whether an antibiotic with less "
            "interaction is suitable for {infection}; if {abx} is still needed, arrange an INR "
            "check within 3–5 days of starting it. Tell the patient to watch for bleeding — "
            "unusual bruising, blood in urine or stools, or nosebleeds that will not stop — and "
            "not to change the warfarin dose on their own."
        ),
        good_note="Correct: flags the interaction and arranges an INR check within 3–5 days.",
        minor=_minor(
            "Clinical reasoning",
            "{abx_cap} can increase the effect of warfarin, so the INR may rise. The patient "
            "should have the INR rechecked once the course of {abx} has finished, and report any "
            "unusual bruising or bleeding. They should not change the warfarin dose on their own.",
            "Recognises the interaction but only rechecks the INR after the {abx} course ends; "
            "it should be checked within 3–5 days of starting, when the INR rise happens.",
        ),
        major=_major(
            "Factual error",
            "{abx_cap} does not interact with warfarin in any clinically meaningful way, so the "
            "patient can start it straight away. No extra INR monitoring is needed; the next "
            "routine check can go ahead as planned. The patient should finish the full course "
            "even if they feel better.",
            "States {abx} has no meaningful interaction with warfarin; it is a well-known "
            "potentiator that can raise the INR and cause bleeding, so an early INR check is "
            "needed.",
        ),
        slots=(
            {"inr": "2.6", "abx": "clarithromycin", "abx_cap": "Clarithromycin",
             "infection": "a chest infection"},
            {"inr": "2.4", "abx": "co-trimoxazole", "abx_cap": "Co-trimoxazole",
             "infection": "a urinary tract infection"},
            {"inr": "2.8", "abx": "metronidazole", "abx_cap": "Metronidazole",
             "infection": "a dental infection"},
        ),
    ),
    Template(
        key="clinical.discharge_plain",
        project="clinical-discharge-v2",
        prompt=(
            "Discharge instructions: Rewrite this instruction for the patient at about a "
            "6th-grade reading level, keeping every instruction: \"Pt to continue {drug_abbr} "
            "daily, {hold_abbr}; f/u w/ {clinic} in {fu_abbr}; return to ED for {ret_abbr}.\""
        ),
        good=(
            "Keep taking {drug_plain} once a day. {hold_plain}. See the {clinic} team in "
            "{fu_plain}. Go to the emergency department straight away if you have {ret_plain}."
        ),
        good_note="Correct: plain language, every instruction kept, hold rule the right way round.",
        minor=_minor(
            "Instruction not followed",
            "Keep taking {drug_plain} once a day. {hold_plain}. Go to the emergency department "
            "straight away if you have {ret_plain}.",
            "Drops the follow-up with the {clinic} team in {fu_plain}; the prompt asked to keep "
            "every instruction.",
        ),
        major=_major(
            "Factual error",
            "Keep taking {drug_plain} once a day. {hold_wrong}. See the {clinic} team in "
            "{fu_plain}. Go to the emergency department straight away if you have {ret_plain}.",
            "Inverts the hold rule: the note says '{hold_abbr}', but the rewrite says to skip "
            "the pill when {measure} is above {limit}, the opposite of what is safe.",
        ),
        slots=tuple(
            {
                "drug_abbr": abbr, "hold_abbr": hold, "clinic": clinic, "fu_abbr": fu,
                "ret_abbr": ret, "drug_plain": plain, "fu_plain": fu_plain,
                "ret_plain": ret_plain,
                "hold_plain": f"Skip that day's pill if {measure} is below {limit}",
                "hold_wrong": f"Skip that day's pill if {measure} is above {limit}",
                "measure": measure.replace("your ", "the "), "limit": limit,
            }
            for (abbr, hold, clinic, fu, ret, plain, fu_plain, ret_plain, measure, limit) in (
                ("metoprolol succinate 50 mg PO", "hold if HR<55", "cardiology", "2/52",
                 "CP, SOB, syncope", "your heart pill, metoprolol succinate 50 mg, by mouth",
                 "2 weeks", "chest pain, trouble breathing or fainting", "your pulse",
                 "55 beats a minute"),
                ("furosemide 40 mg PO", "hold if SBP<95", "heart failure", "1/52",
                 "wt gain >2 kg in 3 d or SOB", "your water pill, furosemide 40 mg, by mouth",
                 "1 week", "a weight gain of more than 2 kg in 3 days or trouble breathing",
                 "the top number of your blood pressure", "95"),
                ("lisinopril 10 mg PO", "hold if SBP<100", "primary care", "4/52",
                 "lip/facial swelling or SOB",
                 "your blood pressure pill, lisinopril 10 mg, by mouth", "4 weeks",
                 "swelling of your lips, tongue or face, or trouble breathing",
                 "the top number of your blood pressure", "100"),
            )
        ),
    ),
    Template(
        key="clinical.headache",
        project="clinical-triage-v2",
        prompt=(
            "Triage question: A {age}-year-old presents with a sudden, severe headache that "
            "reached full intensity within a minute while {activity}. They have never had a "
            "headache like it. Neurological examination: {exam}. What is the next step?"
        ),
        good=_HEADACHE_GOOD.replace("{lp}", "12"),
        good_note="Correct: thunderclap headache treated as possible SAH; urgent CT, then LP.",
        minor=_minor(
            "Factual error",
            _HEADACHE_GOOD.replace("{lp}", "2"),
            "Says the lumbar puncture can be done 2 hours after onset; xanthochromia takes time "
            "to develop, so the LP should be at least 12 hours after onset.",
        ),
        major=_major(
            "Clinical reasoning",
            "The most likely diagnosis is a migraine or tension-type headache, as the "
            "neurological examination is reassuring. Give paracetamol and an antiemetic, let the "
            "patient rest in a dark room, and discharge with advice to see their GP if headaches "
            "recur. Imaging is not needed with a normal examination.",
            "Treats a first-ever thunderclap headache (peak within a minute) as migraine and "
            "discharges without imaging; subarachnoid haemorrhage must be excluded by urgent CT.",
        ),
        slots=(
            {"age": "46", "activity": "lifting weights at the gym",
             "exam": "normal, with no neck stiffness", "exam_short": "a normal examination"},
            {"age": "38", "activity": "having sex",
             "exam": "normal apart from mild neck discomfort",
             "exam_short": "a near-normal examination"},
            {"age": "55", "activity": "gardening", "exam": "normal",
             "exam_short": "a normal examination"},
        ),
    ),
    Template(
        key="clinical.penicillin_allergy",
        project="clinical-meds-v2",
        prompt=(
            "Medication question: A patient whose record lists {reaction} after penicillin has "
            "been prescribed amoxicillin for {infection}. Is it safe to dispense? Answer in no "
            "more than three sentences."
        ),
        good=(
            "No — amoxicillin is a penicillin, so it should not be dispensed to someone with a "
            "history of {reaction_short} after penicillin. Contact the prescriber to switch to a "
            "non-beta-lactam alternative such as {alt} for {infection}. Record the intervention "
            "and confirm the allergy details with the patient."
        ),
        good_note="Correct: amoxicillin is a penicillin; switch to a non-beta-lactam.",
        minor=_minor(
            "Instruction not followed",
            "No, it is not safe. Amoxicillin belongs to the penicillin family. The patient's "
            "record shows {reaction} after penicillin. The same reaction could occur with any "
            "penicillin. The prescriber should be contacted to choose an alternative such as "
            "{alt} for {infection}. The pharmacist should also document the intervention and "
            "check the allergy history with the patient.",
            "The content is right, but the answer runs to six sentences although the prompt "
            "asked for no more than three.",
        ),
        major=_major(
            "Factual error",
            "Yes — amoxicillin is a different antibiotic class from penicillin, so a penicillin "
            "allergy does not rule it out. It can be dispensed as prescribed for {infection}. "
            "Advise the patient to stop taking it if a rash appears.",
            "Says amoxicillin is not a penicillin and can be dispensed despite recorded "
            "{reaction_short}; amoxicillin is a penicillin and could trigger the same reaction.",
        ),
        slots=(
            {"reaction": "anaphylaxis (throat swelling and collapse)",
             "reaction_short": "anaphylaxis", "infection": "a chest infection",
             "alt": "doxycycline"},
            {"reaction": "widespread hives within an hour of a dose", "reaction_short": "hives",
             "infection": "acute sinusitis", "alt": "doxycycline"},
            {"reaction": "facial angioedema", "reaction_short": "angioedema",
             "infection": "a dental abscess", "alt": "clarithromycin or metronidazole"},
        ),
    ),
    Template(
        key="clinical.stroke",
        project="clinical-triage-v2",
        prompt=(
            "Triage question: A {age}-year-old's partner calls because, since {onset}, the "
            "patient has had {symptoms}. The patient was last seen well at {lkw}. What should the "
            "call handler advise?"
        ),
        good=_STROKE_GOOD.replace("{window}", "4.5 hours"),
        good_note="Correct: immediate ambulance, records last-known-well, nothing by mouth.",
        minor=_minor(
            "Factual error",
            _STROKE_GOOD.replace("{window}", "12 hours"),
            "States clot-busting treatment is possible up to 12 hours after the patient was last "
            "seen well; IV thrombolysis is generally limited to 4.5 hours.",
        ),
        major=_major(
            "Unsafe advice",
            "These symptoms may be a transient ischaemic attack, which often settles by itself. "
            "If they improve over the next hour, the patient can book an appointment with their "
            "GP in the next few days. Give an aspirin 300 mg now and make sure they rest. Call an "
            "ambulance only if the symptoms get worse.",
            "Treats acute {symptoms_short} as a possible TIA to watch at home and gives aspirin "
            "before imaging; suspected stroke needs an ambulance now, and aspirin could worsen a "
            "bleed.",
        ),
        slots=(
            {"age": "71", "onset": "about 20 minutes ago",
             "symptoms": "a drooping left side of the face, slurred speech and a weak left arm",
             "symptoms_short": "facial droop, slurred speech and arm weakness",
             "lkw": "7:45 this morning"},
            {"age": "66", "onset": "half an hour ago",
             "symptoms": "difficulty finding words and a weak right hand",
             "symptoms_short": "word-finding difficulty and hand weakness",
             "lkw": "2:10 this afternoon"},
            {"age": "80", "onset": "just after lunch",
             "symptoms": "sudden loss of balance, double vision and slurred speech",
             "symptoms_short": "loss of balance, double vision and slurred speech",
             "lkw": "12:30 today"},
        ),
    ),
    Template(
        key="clinical.af_discharge",
        project="clinical-discharge-v2",
        long=True,
        prompt=(
            "Discharge summary: Rewrite these ward notes as a structured discharge summary for "
            "the patient's GP. Keep every medication change, dose and follow-up action.\n\n"
            "Notes: {name}, {age}{sex}. Adm {adm} with palpitations + SOB. New AF with RVR (HR "
            "148), rate controlled with IV then PO bisoprolol. AKI on adm (creat 168, baseline "
            "96), attributed to naproxen + dehydration; naproxen STOPPED, IV fluids, creat 104 on "
            "d/c. CHA2DS2-VASc {chads}, ORBIT low: started apixaban 5 mg BD. TTE: mildly dilated "
            "LA, LVEF 55%. TSH normal. Meds on d/c: apixaban 5 mg BD (new), bisoprolol 2.5 mg OD "
            "(new), amlodipine 5 mg OD, atorvastatin 20 mg ON, paracetamol 1 g QDS PRN (new, knee "
            "OA). Naproxen 500 mg BD stopped. F/u: U&E 1/52 with GP, cardiology clinic 8/52, "
            "consider DCCV if symptomatic. Advice: no NSAIDs, bleeding red flags. D/c {dis}."
        ),
        good="\n\n".join((_AF_HEAD, _AF_MEDS_GOOD, _AF_FU_GOOD)),
        good_note="Correct: naproxen stopped, apixaban 5 mg BD, all follow-up actions kept.",
        minor=_minor(
            "Instruction not followed",
            "\n\n".join((_AF_HEAD, _AF_MEDS_GOOD, _AF_FU_BAD)),
            "Omits the repeat U&E in 1 week from the follow-up actions, although the prompt "
            "asked to keep every follow-up and the kidney injury makes it important.",
        ),
        major=_major(
            "Unsafe advice",
            "\n\n".join((_AF_HEAD, _AF_MEDS_BAD, _AF_FU_GOOD)),
            "Lists naproxen 500 mg twice daily as continued, although the notes stopped it for "
            "the NSAID-related kidney injury, and with apixaban it adds bleeding risk.",
        ),
        slots=(
            {"name": "Mrs Eleanor Hayes", "age": "72", "sex": "F", "chads": "3",
             "adm": "12 November", "dis": "16 November", "pron": "She", "pron_l": "she",
             "poss": "her"},
            {"name": "Mr David Okafor", "age": "69", "sex": "M", "chads": "2",
             "adm": "9 November", "dis": "14 November", "pron": "He", "pron_l": "he",
             "poss": "his"},
            {"name": "Mrs Priya Raman", "age": "67", "sex": "F", "chads": "3",
             "adm": "15 November", "dis": "19 November", "pron": "She", "pron_l": "she",
             "poss": "her"},
        ),
    ),
    Template(
        key="clinical.copd_letter",
        project="clinical-discharge-v2",
        long=True,
        prompt=(
            "Discharge letter: Write a plain-language discharge letter addressed to the patient "
            "after an admission for a COPD flare-up. Include every medicine and follow-up from "
            "the plan.\n\n"
            "Plan: {name}, {age}. Adm {adm}, d/c {dis}. COPD exacerbation, no pneumonia on CXR. "
            "Prednisolone 30 mg OD for 5 days total (2 given, 3 more at home). Doxycycline to "
            "complete 5 days (3 more at home, 100 mg OD). Continue {inhaler} and salbutamol PRN. "
            "Rescue pack issued: start only if increased breathlessness AND change in sputum "
            "colour or volume; call GP the same day. Pulmonary rehab referral. Smoking cessation "
            "referral ({cigs}/day). GP review 2/52; spirometry when recovered."
        ),
        good=_COPD_HEAD + _COPD_STEROID_GOOD + _COPD_MIDDLE + _COPD_RESCUE_GOOD + _COPD_TAIL,
        good_note="Correct: 3 more days of prednisolone, rescue pack criteria, all follow-up.",
        minor=_minor(
            "Clinical reasoning",
            _COPD_HEAD + _COPD_STEROID_GOOD + _COPD_MIDDLE + _COPD_RESCUE_BAD + _COPD_TAIL,
            "Tells the patient to start the rescue pack at any new cough without telling the GP; "
            "the plan says only with more breathlessness plus a sputum change, and to call the "
            "GP the same day.",
        ),
        major=_major(
            "Factual error",
            _COPD_HEAD + _COPD_STEROID_BAD + _COPD_MIDDLE + _COPD_RESCUE_GOOD + _COPD_TAIL,
            "Tells the patient to take prednisolone 30 mg for 5 weeks at home; the plan is 5 days "
            "in total (3 more at home), and a long course would also need tapering.",
        ),
        slots=(
            {"name": "Mr Alan Whitfield", "title": "Mr Whitfield", "age": "68",
             "adm": "14 November", "dis": "18 November", "cigs": "15",
             "inhaler": "Trimbow, 2 puffs twice a day"},
            {"name": "Mrs Janet Morrow", "title": "Mrs Morrow", "age": "74",
             "adm": "10 November", "dis": "13 November", "cigs": "10",
             "inhaler": "Trelegy Ellipta, 1 inhalation once a day"},
            {"name": "Mr Samuel Ortiz", "title": "Mr Ortiz", "age": "61",
             "adm": "16 November", "dis": "20 November", "cigs": "20",
             "inhaler": "Anoro Ellipta, 1 inhalation once a day"},
        ),
    ),
)


# --------------------------------------------------------------------------------------------
# Legal
# --------------------------------------------------------------------------------------------


def _notice_slots() -> tuple[dict[str, str], ...]:
    rows = (
        ("14.2", "Brightline Facilities Ltd", 90, date(2027, 3, 31)),
        ("9.1", "Northgate Logistics Ltd", 60, date(2027, 6, 30)),
        ("17.3", "Kestrel Cloud Services Ltd", 120, date(2027, 9, 30)),
    )
    return tuple(
        {
            "clause": clause, "supplier": supplier, "days": str(days), "exit": _day(exit_on),
            "deadline": _day(exit_on - timedelta(days=days)),
            "wrong_deadline": _day(exit_on - timedelta(days=30)),
        }
        for clause, supplier, days, exit_on in rows
    )


def _limitation_slots() -> tuple[dict[str, str], ...]:
    rows = (
        ("Harwood Interiors Ltd", "fit-out contract", date(2022, 3, 14), date(2024, 1, 10)),
        ("Pellman Dairies Ltd", "bottling-line maintenance contract", date(2021, 9, 2),
         date(2023, 11, 27)),
        ("Ashgrove Print Ltd", "software supply contract", date(2023, 5, 19),
         date(2025, 8, 4)),
    )
    return tuple(
        {
            "client": client, "contract": contract, "breach": _day(breach),
            "discovered": _day(found),
            "deadline": _day(breach.replace(year=breach.year + 6)),
            "wrong": _day(found.replace(year=found.year + 5)),
        }
        for client, contract, breach, found in rows
    )


def _nda_term_slots() -> tuple[dict[str, str], ...]:
    rows = (
        ("Halcyon Bio", "Norland Pharma", 2, date(2026, 3, 1), date(2026, 4, 15),
         "manufacturing process parameters"),
        ("Vantage Analytics", "Brightwater Insurance", 3, date(2026, 1, 1), date(2026, 2, 9),
         "pricing models and claims data"),
        ("Quarry Labs", "Sable Audio", 2, date(2026, 6, 1), date(2026, 7, 20),
         "unreleased codec source code"),
    )
    return tuple(
        {
            "cp": cp, "client": client, "term": str(term), "eff": _day(eff),
            "signed": _day(signed), "info": info,
            "end": _day(eff.replace(year=eff.year + term)),
            "wrong_end": _day(signed.replace(year=signed.year + term)),
        }
        for cp, client, term, eff, signed, info in rows
    )


def _employment_slots() -> tuple[dict[str, str], ...]:
    rows = (
        (5, "one month's notice",
         "the statutory 5 weeks is longer than the contractual one month, and at least 5 weeks' "
         "notice must be given"),
        (8, "three months' notice",
         "the contractual three months is longer than the statutory 8 weeks and applies"),
        (15, "four weeks' notice",
         "the statutory 12 weeks is longer than the contractual four weeks, and at least 12 "
         "weeks' notice must be given"),
    )
    return tuple(
        {"years": str(years), "weeks": str(min(years, 12)), "contract_notice": notice,
         "conclusion": conclusion}
        for years, notice, conclusion in rows
    )


_NOTICE_GOOD_HEAD = (
    "Under clause {clause} the client must give at least {days} days' written notice, so the "
    "notice must reach {supplier} no later than {deadline} for the agreement to end on {exit}. "
)

_GDPR_GOOD_TAIL = (
    " If notification takes longer than 72 hours, it must be accompanied by the reasons for the "
    "delay, and information may be provided in phases. Every breach, whether notified or not, "
    "must be documented with its facts, effects and remedial action, and any processor handling "
    "{data} must inform {org} without undue delay after becoming aware of a breach."
)

_CAP_GOOD_HEAD = (
    "The cap of fees paid in the {cap} before the claim is low for a service holding {data}, and "
    "the blanket exclusion of liability for loss or corruption of data removes the customer's "
    "main remedy for the most likely serious failure."
)

_CRA_FAULT = (
    " The goods must be of satisfactory quality and fit for purpose, and {fault} means they are "
    "not. The retailer must refund within 14 days of agreeing the goods are faulty, and cannot "
    "deduct anything for use within this 30-day period."
)

_S86_HEAD = (
    "Under section 86, an employee with between two and twelve years' continuous employment is "
    "entitled to one week's notice for each complete year, capped at twelve weeks after twelve "
    "years. With {years} years' service the statutory minimum is {weeks} weeks."
)

_SAAS_INTRO = (
    "REDLINE — {supplier} Master Subscription Agreement (customer: {customer})\n\n"
    "Summary: the draft is workable, but the renewal mechanics, service levels, data handling "
    "and liability position need changes before {customer} relies on the platform for {use}. "
    "Proposed changes and rationale, clause by clause:\n\n"
    "3.2 Auto-renewal\n"
    "Redline: \"...unless either party gives notice of non-renewal at least [90] 60 days before "
    "the end of the then-current term. Supplier shall remind Customer in writing of the renewal "
    "date and the notice deadline at least 30 days before that deadline.\"\n"
    "Rationale: a 90-day window is easy to miss; a shorter window and a reminder protect "
    "{customer} from rolling into an unwanted year."
)

_SAAS_PRICE_GOOD = (
    "4.3 Fee increases\n"
    "Redline: \"Supplier may increase the Fees for any renewal term by giving Customer at least "
    "[30] 120 days' notice before the renewal date, and any increase shall not exceed [the lower "
    "of 5% and CPI] for that renewal term.\"\n"
    "Rationale: an increase notified 30 days before renewal arrives after the non-renewal "
    "deadline in 3.2 has passed (90 days as drafted, 60 as redlined), so {customer} could be "
    "locked into a higher price "
    "with no right to leave. The increase notice must come before the exit window closes, and a "
    "cap makes the cost predictable."
)

_SAAS_PRICE_BAD = (
    "4.3 Fee increases\n"
    "Accept as drafted. Annual price reviews with 30 days' notice are common in SaaS agreements, "
    "and {customer} can budget for a modest increase at each renewal."
)

_SAAS_SLA = (
    "6.1 Availability\n"
    "Redline: \"Supplier shall [use reasonable endeavours to] make the Service available [99.0%] "
    "99.9% of the time, measured [annually] monthly, excluding scheduled maintenance notified at "
    "least 5 business days in advance. If availability falls below that level, Customer shall "
    "receive the service credits in Schedule 3, and Customer may terminate if availability "
    "falls below 99.0% in any three months of a rolling twelve-month period.\"\n"
    "Rationale: 99.0% measured annually allows more than 87 hours of downtime a year, which can "
    "be concentrated in a single bad month; \"reasonable endeavours\" makes the commitment "
    "almost unenforceable, and there is currently no remedy."
)

_SAAS_BREACH_GOOD = (
    "8.4 Personal data breaches\n"
    "Redline: \"Supplier shall notify Customer of any Personal Data Breach without undue delay "
    "and in any event within [72] 24 hours of becoming aware of it, and shall provide the "
    "information Customer reasonably needs to meet its own notification obligations.\"\n"
    "Rationale: {customer} is the controller and has its own 72-hour deadline under Article 33 "
    "GDPR, which runs from when it becomes aware; a processor taking the full 72 hours would "
    "leave it no time to assess the breach and notify the supervisory authority."
)

_SAAS_BREACH_BAD = (
    "8.4 Personal data breaches\n"
    "Accept as drafted: a 72-hour notification period matches the GDPR deadline, so {customer} "
    "will be able to pass the notice straight on to the supervisory authority."
)

_SAAS_TAIL = (
    "10.1 Liability cap\n"
    "Redline: \"Supplier's total liability shall not exceed the Fees paid [in the 3 months] in the "
    "12 months preceding the claim, save that (a) liability for breach of clause 8 (data "
    "protection) and clause 9 (confidentiality) shall be capped at three times that amount, and "
    "(b) liability under the IP indemnity in clause 11 shall be unlimited.\"\n"
    "Rationale: three months of fees is far below the loss {customer} would suffer if the "
    "platform fails or leaks data; market practice is twelve months, with super-caps for data "
    "protection. Note that liability for death or personal injury caused by negligence cannot "
    "be limited in any case (section 2(1) UCTA 1977).\n\n"
    "12.2 Data on termination\n"
    "Redline: \"On termination, Supplier shall [delete Customer Data immediately] make Customer "
    "Data available for export in a standard machine-readable format for 30 days, and shall "
    "then delete it and certify deletion in writing.\"\n"
    "Rationale: immediate deletion would destroy {customer}'s records before it can migrate "
    "them and may breach its own retention obligations.\n\n"
    "Next steps: send the redline to {supplier} with a short cover note prioritising "
    "[PRIORITIES]; the remaining points are negotiable if {supplier} pushes back."
)


def _redline(price: str, breach: str, priorities: str) -> str:
    tail = _SAAS_TAIL.replace("[PRIORITIES]", priorities)
    return "\n\n".join((_SAAS_INTRO, price, _SAAS_SLA, breach, tail))

_NDA_MEMO_HEAD = (
    "MEMO — One-way NDA from {cp}\n"
    "To: {client} legal team. Re: review of the draft NDA for {purpose}.\n\n"
    "[OVERALL] Comments by clause:\n\n"
    "Background\n"
    "{client} expects to share {asset} during {purpose}. Because the NDA is one-way, {cp} takes "
    "on the confidentiality obligations and {client} takes on none, except under clause 5. The "
    "priority is to make sure everything {client} shares is covered, for long enough, and that "
    "copies are returned or destroyed at the end.\n\n"
    "1. Definition of Confidential Information\n"
    "Only information marked 'confidential' is protected. Much of what {client} will share "
    "(oral briefings, demonstrations, data-room browsing) will not be marked. Propose: "
    "information disclosed in any form that is marked confidential or would reasonably be "
    "understood to be confidential, including all information about {asset}.\n\n"
    "2. Exclusions\n"
    "The four standard exclusions are acceptable, but the recipient should bear the burden of "
    "proving them with written records, and 'independently developed' should require "
    "development without access to or use of {client}'s information.\n\n"
    "3. Term\n"
    "Three years from disclosure is short for {asset}. Propose that obligations last five years, "
    "and for trade secrets for as long as they remain trade secrets.\n\n"
    "4. Return and destruction\n"
    "The right to keep copies in backups should be limited to automatic electronic backups that "
    "are not readily accessible, and those copies must stay subject to the confidentiality "
    "obligations for as long as they exist.\n\n"
)

_NDA_OVERALL_GOOD = (
    "Overall: the draft is a reasonable starting point, but as the only disclosing party "
    "{client} should tighten the definition, the backup carve-out and the term, and remove the "
    "non-solicitation clause."
)
_NDA_OVERALL_BAD = (
    "Overall: the draft is a reasonable starting point, but as the only disclosing party "
    "{client} should tighten the definition, the backup carve-out and the term."
)


def _nda_memo(overall: str, solicit: str, remedy: str, priorities: str) -> str:
    head = _NDA_MEMO_HEAD.replace("[OVERALL]", overall)
    return head + solicit + remedy + _NDA_TAIL.replace("[PRIORITIES]", priorities)


_NDA_SOLICIT_GOOD = (
    "5. Non-solicitation\n"
    "This clause does not belong in a one-way NDA and, because it binds 'neither party', it "
    "restricts {client}'s own hiring for 12 months. It has no carve-out for general "
    "advertisements or for people who approach {client} themselves. Propose deleting it; if "
    "{cp} insists, make it bind {cp} only, limit it to staff {cp} actually dealt with in the "
    "discussions, and add the usual general-advertisement carve-out.\n\n"
)

_NDA_SOLICIT_BAD = (
    "5. Non-solicitation\n"
    "No issues. A 12-month non-solicitation is standard and can be accepted.\n\n"
)

_NDA_REMEDY_GOOD = (
    "6. Remedies\n"
    "The acknowledgement that damages may not be adequate supports an application for an "
    "injunction if {cp} threatens to misuse or disclose the information, which is usually the "
    "remedy that matters most. Keep it, and add an indemnity for losses caused by a breach by "
    "{cp} or its representatives.\n\n"
)

_NDA_REMEDY_BAD = (
    "6. Remedies\n"
    "Under English law a court cannot grant an injunction to enforce a confidentiality "
    "agreement; {client}'s only remedy would be damages. Clause 6 therefore has no practical "
    "effect and is not worth negotiating.\n\n"
)

_NDA_TAIL = (
    "7. Governing law and jurisdiction\n"
    "England and Wales with exclusive jurisdiction of the English courts suits {client}. Consider "
    "making the jurisdiction non-exclusive so that {client} can also seek urgent relief where "
    "{cp} or its assets are located.\n\n"
    "Missing provisions\n"
    "- An obligation on {cp} to ensure its advisers and affiliates comply, and liability for "
    "their breaches.\n"
    "- A statement that no licence or other right in {client}'s IP is granted.\n"
    "- A 'no obligation to proceed' clause and a prohibition on using the information for any "
    "purpose other than evaluating {purpose}.\n"
    "- A duty on {cp} to tell {client} promptly of any unauthorised disclosure and to help limit "
    "its effects.\n"
    "- A statement that {client} gives no warranty as to the accuracy or completeness of the "
    "information.\n\n"
    "Practical points\n"
    "Keep a log of what is disclosed and when, mark documents, and share the most sensitive "
    "material only in a controlled data room with downloads disabled and access limited to named "
    "individuals at {cp} and its advisers.\n\n"
    "Recommendation: return a marked-up draft with the changes above; [PRIORITIES] are the "
    "priorities."
)

LEGAL: tuple[Template, ...] = (
    Template(
        key="legal.termination_notice",
        project="legal-contracts-v2",
        prompt=(
            "Contract review: Clause {clause} of the services agreement with {supplier} reads: "
            "\"Either party may terminate this Agreement for convenience by giving not less than "
            "{days} days' written notice to the other party, delivered by hand or by recorded "
            "delivery to the address set out in Schedule 1.\" Our client wants the agreement to "
            "end on {exit}. What must they do, and by when?"
        ),
        good=_NOTICE_GOOD_HEAD + (
            "The notice must be in writing and delivered by hand or recorded delivery to the "
            "Schedule 1 address; an email alone would not be valid notice under this clause. I "
            "recommend sending it a few days early, keeping proof of delivery, and checking the "
            "agreement for any fees or transition duties on termination for convenience."
        ),
        good_note="Correct: {days} days' notice, served by hand or recorded delivery.",
        minor=_minor(
            "Missed clause or risk",
            _NOTICE_GOOD_HEAD + (
                "An email to the {supplier} account manager is enough, as long as it clearly "
                "states the termination date. The client should also check for any fees that "
                "apply on termination for convenience."
            ),
            "Says an email to the account manager is enough, but clause {clause} requires "
            "notice delivered by hand or recorded delivery to the Schedule 1 address.",
        ),
        major=_major(
            "Missed clause or risk",
            "Under clause {clause} the client only needs to give 30 days' written notice, so "
            "they can wait until {wrong_deadline} to send it for the agreement to end on {exit}. "
            "The notice must be delivered by hand or recorded delivery to the Schedule 1 "
            "address. I recommend keeping proof of delivery.",
            "Misstates the notice period as 30 days; clause {clause} requires not less than "
            "{days} days, so notice sent on {wrong_deadline} would be too late for an exit on "
            "{exit}.",
        ),
        slots=_notice_slots(),
    ),
    Template(
        key="legal.gdpr_breach",
        project="legal-statutes-v2",
        prompt=(
            "Statute summary: In three sentences, summarise the personal data breach "
            "notification duty under Article 33 GDPR for {org}, {org_desc} that acts as "
            "controller for {data}."
        ),
        good=(
            "As controller, {org} must notify the competent supervisory authority of a personal "
            "data breach without undue delay and, where feasible, within 72 hours of becoming "
            "aware of it, unless the breach is unlikely to result in a risk to the rights and "
            "freedoms of individuals." + _GDPR_GOOD_TAIL
        ),
        good_note="Correct: 72 hours from awareness, reasons for delay, documentation, processors.",
        minor=_minor(
            "Misstated law",
            "As controller, {org} must notify the competent supervisory authority of a personal "
            "data breach within 72 hours of the breach occurring, unless it is unlikely to "
            "result in a risk to the rights and freedoms of individuals." + _GDPR_GOOD_TAIL,
            "Counts the 72 hours from when the breach occurred; Article 33(1) runs the clock "
            "from when the controller becomes aware of the breach.",
        ),
        major=_major(
            "Misstated law",
            "{org} must notify the supervisory authority of a personal data breach within 30 "
            "days of discovering it, but only if the breach involves special category data such "
            "as health records. Breaches of ordinary data such as {data} do not need to be "
            "notified or recorded. Processors have no notification duty under Article 33.",
            "States a 30-day deadline limited to special category data and no processor duty; "
            "Article 33 requires notice within 72 hours for any risky breach, a record of every "
            "breach, and processors must tell the controller.",
        ),
        slots=(
            {"org": "Hafenmarkt GmbH", "org_desc": "a German online retailer",
             "data": "customer account and order data"},
            {"org": "Liffey Payroll Ltd", "org_desc": "an Irish payroll bureau",
             "data": "employee payroll data"},
            {"org": "Dijkstra Software BV", "org_desc": "a Dutch software company",
             "data": "newsletter subscriber data"},
        ),
    ),
    Template(
        key="legal.nda_residuals",
        project="legal-nda-v2",
        prompt=(
            "NDA question: {client} is about to sign a mutual NDA with {cp} to explore {deal}. "
            "Clause {clause} lets either party use any information \"retained in the unaided "
            "memory\" of its personnel. Is this a risk for {client}?"
        ),
        good=(
            "Yes. A residuals clause lets {cp}'s staff use anything they remember from "
            "{client}'s disclosures, which in practice can amount to a free licence and is very "
            "hard to police or disprove. Because {client} will be disclosing {assets}, the best "
            "position is to delete clause {clause}; failing that, narrow it so it excludes trade "
            "secrets, source code, pricing and customer data, forbids intentional memorisation, "
            "and states that it grants no licence under patents, copyright or other IP."
        ),
        good_note="Correct: flags the residuals clause and proposes deletion or narrowing.",
        minor=_minor(
            "Missed clause or risk",
            "Yes, a residuals clause lets {cp}'s staff use anything they remember from "
            "{client}'s disclosures, which weakens the NDA. {client} should ask to narrow clause "
            "{clause} so it forbids intentional memorisation and applies only during the NDA's "
            "term. With those changes the clause is acceptable.",
            "Narrows the clause only for memorisation and term; it does not exclude trade "
            "secrets or {assets}, or state that no IP licence is granted, which is the real "
            "exposure.",
        ),
        major=_major(
            "Missed clause or risk",
            "No. Residuals clauses are standard boilerplate in mutual NDAs and are rarely relied "
            "on in practice, so clause {clause} does not need to be negotiated. {client} can "
            "sign the NDA as drafted and move on with {deal}.",
            "Calls the residuals clause harmless boilerplate; it lets {cp} use whatever its "
            "staff remember, which can defeat the NDA for {assets}.",
        ),
        slots=(
            {"client": "Lumen Diagnostics", "cp": "Orbis Health Systems",
             "deal": "a joint diagnostic software product", "clause": "7",
             "assets": "its image-analysis source code and model architecture"},
            {"client": "Tideway Foods", "cp": "GreenCart Retail",
             "deal": "an exclusive supply arrangement", "clause": "9",
             "assets": "its recipes, supplier pricing and margin data"},
            {"client": "Corvid Robotics", "cp": "Atlas Manufacturing",
             "deal": "a possible acquisition", "clause": "6.4",
             "assets": "its control-system designs and customer list"},
        ),
    ),
    Template(
        key="legal.limitation",
        project="legal-statutes-v2",
        prompt=(
            "Statute summary: Under the Limitation Act 1980 (England and Wales), how long does "
            "{client} have to sue for breach of a {contract} signed under hand (not as a deed)? "
            "The supplier's breach happened on {breach}; {client} only discovered it on "
            "{discovered}."
        ),
        good=(
            "For a simple contract, section 5 of the Limitation Act 1980 gives six years from "
            "the date the cause of action accrued, which for breach of contract is the date of "
            "the breach, not the date of discovery. {client} therefore has until {deadline} to "
            "issue proceedings. Had the contract been executed as a deed, section 8 would give "
            "twelve years instead. Discovery would matter only if the breach had been "
            "deliberately concealed (section 32), so that is worth checking."
        ),
        good_note="Correct: six years from breach under s5; twelve for a deed; s32 concealment.",
        minor=_minor(
            "Misstated law",
            "For a simple contract, section 5 of the Limitation Act 1980 gives six years from "
            "the date of the breach, not the date of discovery. {client} therefore has until "
            "{deadline} to issue proceedings. Had the contract been executed as a deed, section "
            "8 would give fifteen years instead.",
            "Says a contract made as a deed has a fifteen-year limitation period; section 8 of "
            "the Limitation Act 1980 gives twelve years.",
        ),
        major=_major(
            "Jurisdiction error",
            "Under the Prescription and Limitation (Scotland) Act 1973 a contractual obligation "
            "prescribes five years after the creditor became aware of the loss. {client} "
            "discovered the breach on {discovered}, so it has until {wrong} to bring the claim.",
            "Applies the Scottish five-year prescription from discovery; the Limitation Act 1980 "
            "governs, so time runs six years from the breach and ends on {deadline}, not {wrong}.",
        ),
        slots=_limitation_slots(),
    ),
    Template(
        key="legal.liability_cap",
        project="legal-contracts-v2",
        prompt=(
            "Contract review: Review clause {clause} for the customer, {customer}, which will "
            "keep {data} on {supplier}'s platform: \"Supplier's total aggregate liability "
            "arising out of or in connection with this Agreement shall not exceed the fees paid "
            "by Customer in the {cap} preceding the claim. Supplier shall have no liability for "
            "any loss or corruption of data, howsoever caused.\""
        ),
        good=_CAP_GOOD_HEAD + (
            " I recommend carving out data loss caused by the supplier's breach of its security "
            "or backup obligations, a separate higher cap (for example three times annual fees) "
            "for data protection and confidentiality breaches, and uncapped liability under the "
            "IP indemnity. Liability for death or personal injury caused by negligence cannot be "
            "excluded (section 2(1) UCTA 1977), and the rest of the clause must be reasonable."
        ),
        good_note="Correct: flags the low cap and data-loss exclusion; UCTA stated accurately.",
        minor=_minor(
            "Misstated law",
            _CAP_GOOD_HEAD + (
                " I recommend carving out data loss caused by the supplier's breach of its "
                "security obligations and a higher cap for data protection breaches. In any case "
                "the whole clause is automatically void under the Unfair Contract Terms Act "
                "1977, so the customer is protected even if the supplier refuses."
            ),
            "Says the whole clause is automatically void under UCTA 1977; between businesses it "
            "stands if it passes the reasonableness test, and only death or personal injury "
            "liability cannot be excluded.",
        ),
        major=_major(
            "Missed clause or risk",
            "This is a balanced, market-standard limitation clause and can be accepted as "
            "drafted. A cap linked to the fees paid in the {cap} is typical for SaaS agreements, "
            "and the customer will still have its normal remedies if the service fails. No "
            "changes are recommended.",
            "Accepts the clause without flagging the blanket exclusion of liability for data "
            "loss, which leaves {customer} with no remedy if its {data} are lost through the "
            "supplier's fault.",
        ),
        slots=(
            {"customer": "Meridian Clinics", "supplier": "CloudBook Ltd",
             "data": "patient appointment records", "cap": "three months", "clause": "11.1"},
            {"customer": "Aster Payroll", "supplier": "LedgerHub Ltd",
             "data": "payroll records for 4,000 employees", "cap": "six months",
             "clause": "12.2"},
            {"customer": "Fernway Retail", "supplier": "StackCart Ltd",
             "data": "customer order histories", "cap": "one month", "clause": "10.3"},
        ),
    ),
    Template(
        key="legal.nda_term",
        project="legal-nda-v2",
        prompt=(
            "NDA question: The mutual NDA with {cp} says the confidentiality obligations "
            "\"shall continue for {term} years from the Effective Date\". The NDA was signed on "
            "{signed}, and the Effective Date is {eff}. {client} will disclose its {info}. When do "
            "the obligations end, and is the term adequate?"
        ),
        good=(
            "The obligations end on {end}, {term} years after the Effective Date of {eff}, "
            "whenever the discussions finish. A fixed term is fine for ordinary business "
            "information, but the {info} may be a trade secret whose value lasts much longer, and "
            "after {end} {cp} would be free to use or disclose it. {client} should ask for the "
            "obligations to continue for as long as such information remains a trade secret, "
            "with the {term}-year term applying to everything else."
        ),
        good_note="Correct: end date from the Effective Date; trade secrets need longer cover.",
        minor=_minor(
            "Other",
            "The obligations end on {wrong_end}, {term} years after the NDA was signed. A fixed "
            "term is fine for ordinary business information, but the {info} may be a trade secret "
            "whose value lasts much longer. {client} should ask for the obligations to continue "
            "for as long as such information remains a trade secret.",
            "Gives the end date as {wrong_end} by counting from signature; the clause counts "
            "{term} years from the Effective Date ({eff}), so the obligations end on {end}.",
        ),
        major=_major(
            "Missed clause or risk",
            "The obligations end on {end}, {term} years after the Effective Date. That is a "
            "standard term and is adequate for the {info}, so {client} can sign without "
            "changes.",
            "Calls a {term}-year term adequate for the {info}; once it ends {cp} may use or "
            "disclose trade secrets freely, so they need protection for as long as they stay "
            "secret.",
        ),
        slots=_nda_term_slots(),
    ),
    Template(
        key="legal.consumer_rights",
        project="legal-statutes-v2",
        prompt=(
            "Statute summary: In plain English, explain what a consumer can do under the "
            "Consumer Rights Act 2015 about a faulty {item} bought in store {days} days ago. The "
            "fault is {fault}."
        ),
        good=(
            "Because the {item} was bought {days} days ago, the consumer is still within the "
            "30-day short-term right to reject in section 22 of the Consumer Rights Act 2015, so "
            "they can return it and ask for a full refund." + _CRA_FAULT + " If the consumer "
            "prefers, they can ask for a repair or replacement instead."
        ),
        good_note="Correct: within the 30-day short-term right to reject (s22 CRA 2015).",
        minor=_minor(
            "Misstated law",
            "Because the {item} was bought {days} days ago, the consumer can still reject it and "
            "ask for a full refund under the Sale of Goods Act 1979, which gives a 30-day "
            "short-term right to reject." + _CRA_FAULT,
            "Cites the Sale of Goods Act 1979; consumer contracts made since 1 October 2015 are "
            "governed by the Consumer Rights Act 2015 (section 22 for the right to reject).",
        ),
        major=_major(
            "Misstated law",
            "The short-term right to reject under the Consumer Rights Act 2015 lasts only 14 "
            "days, so for a {item} bought {days} days ago it has expired. The consumer can only "
            "ask the retailer for a repair, and if the repair fails the retailer may keep the "
            "goods and offer store credit.",
            "Says the short-term right to reject lasts 14 days and has expired; under section 22 "
            "it lasts 30 days, so a {item} bought {days} days ago can still be rejected for a "
            "full refund.",
        ),
        slots=(
            {"item": "washing machine", "days": "18",
             "fault": "that the drum stops spinning mid-cycle"},
            {"item": "laptop", "days": "22", "fault": "that the screen flickers and goes black"},
            {"item": "pair of running shoes", "days": "26",
             "fault": "that a sole has come away from the upper"},
        ),
    ),
    Template(
        key="legal.employment_notice",
        project="legal-statutes-v2",
        prompt=(
            "Statute summary: Summarise the minimum notice an employer must give under section "
            "86 of the Employment Rights Act 1996 to an employee with {years} years' continuous "
            "employment whose contract provides for {contract_notice}."
        ),
        good=_S86_HEAD + (
            " Section 86 sets a floor, not a ceiling: the employee gets whichever is longer of "
            "the statutory minimum and the contractual notice, so here {conclusion}."
        ),
        good_note="Correct: one week per year, capped at 12; the longer of statute and contract.",
        minor=_minor(
            "Misstated law",
            _S86_HEAD + (
                " Because the statute fixes the notice period, the employer only has to give "
                "{weeks} weeks, even though the contract provides for {contract_notice}."
            ),
            "Says the statutory minimum replaces the contractual {contract_notice}; section 86 "
            "is a floor, and a longer contractual notice period still applies.",
        ),
        major=_major(
            "Misstated law",
            "Section 86 gives one month's notice for each complete year of continuous "
            "employment, with no upper limit. With {years} years' service the employer must "
            "therefore give {years} months' notice, which overrides the {contract_notice} in "
            "the contract.",
            "States one month per year of service with no cap; section 86 gives one week per "
            "complete year, capped at 12 weeks, so {years} years means {weeks} weeks.",
        ),
        slots=_employment_slots(),
    ),
    Template(
        key="legal.saas_redline",
        project="legal-contracts-v2",
        long=True,
        prompt=(
            "Contract redline: Review these sections of {supplier}'s draft Master Subscription "
            "Agreement for our client, {customer}, which will use the platform for {use}. Return "
            "a redline with a short rationale for each change.\n\n"
            "3.2 The Subscription Term renews automatically for successive 12-month periods "
            "unless either party gives notice of non-renewal at least 90 days before the end of "
            "the then-current term.\n"
            "4.3 Supplier may increase the Fees for any renewal term by giving Customer at least "
            "30 days' notice before the renewal date.\n"
            "6.1 Supplier shall use reasonable endeavours to make the Service available 99.0% of "
            "the time, measured annually.\n"
            "8.4 Supplier shall notify Customer of any Personal Data Breach within 72 hours of "
            "becoming aware of it.\n"
            "10.1 Supplier's total liability shall not exceed the Fees paid in the 3 months "
            "preceding the claim.\n"
            "12.2 On termination, Customer Data will be deleted immediately."
        ),
        good=_redline(_SAAS_PRICE_GOOD, _SAAS_BREACH_GOOD, "4.3, 8.4 and 10.1"),
        good_note="Correct: catches the 4.3/3.2 renewal trap and the processor breach timing.",
        minor=_minor(
            "Misstated law",
            _redline(_SAAS_PRICE_GOOD, _SAAS_BREACH_BAD, "4.3 and 10.1"),
            "Accepts 72-hour breach notice from the supplier as matching GDPR; {customer} as "
            "controller has its own 72 hours under Article 33, so the processor must notify "
            "much sooner.",
        ),
        major=_major(
            "Missed clause or risk",
            _redline(_SAAS_PRICE_BAD, _SAAS_BREACH_GOOD, "8.4 and 10.1"),
            "Accepts clause 4.3 although a 30-day price-increase notice arrives after the "
            "non-renewal deadline in 3.2 has passed, so {customer} could be locked into a higher "
            "fee with no way out.",
        ),
        slots=(
            {"supplier": "Fieldnote Software Ltd", "customer": "Carrow Housing Association",
             "use": "tenant repairs and complaints"},
            {"supplier": "Quillon Systems Ltd", "customer": "Bexley & Shaw LLP",
             "use": "matter management and client billing"},
            {"supplier": "Tessellate Cloud Ltd", "customer": "Marlowe Veterinary Group",
             "use": "appointment booking and patient records"},
        ),
    ),
    Template(
        key="legal.nda_memo",
        project="legal-nda-v2",
        long=True,
        prompt=(
            "NDA review: Prepare a review memo for {client} on the one-way NDA received from "
            "{cp} for {purpose} ({client} is the only disclosing party). Key clauses:\n"
            "1 'Confidential Information' means information marked 'confidential'.\n"
            "2 Exclusions: public domain; already known; independently developed; received "
            "from a third party.\n"
            "3 Obligations last 3 years from disclosure.\n"
            "4 On request the recipient returns or destroys materials, but may keep copies in "
            "backups.\n"
            "5 For 12 months neither party will solicit the other's employees.\n"
            "6 Damages may not be an adequate remedy; the disclosing party may seek injunctive "
            "relief.\n"
            "7 Governing law England and Wales; exclusive jurisdiction of the English courts."
        ),
        good=_nda_memo(
            _NDA_OVERALL_GOOD, _NDA_SOLICIT_GOOD, _NDA_REMEDY_GOOD, "clauses 1, 3 and 5"
        ),
        good_note="Correct: flags the non-solicit, keeps injunctive relief, tightens clauses 1-4.",
        minor=_minor(
            "Missed clause or risk",
            _nda_memo(_NDA_OVERALL_BAD, _NDA_SOLICIT_BAD, _NDA_REMEDY_GOOD, "clauses 1 and 3"),
            "Waves through the 12-month non-solicitation in clause 5, which restricts "
            "{client}'s own hiring, has no general-advertisement carve-out and does not belong "
            "in a one-way NDA.",
        ),
        major=_major(
            "Misstated law",
            _nda_memo(_NDA_OVERALL_GOOD, _NDA_SOLICIT_GOOD, _NDA_REMEDY_BAD, "clauses 1, 3 and 5"),
            "Says English courts cannot grant an injunction to enforce an NDA; injunctive relief "
            "is the usual remedy for threatened misuse of confidential information.",
        ),
        slots=(
            {"client": "Halewood Genomics", "cp": "Stratus Capital Partners",
             "purpose": "a possible minority investment",
             "asset": "its sequencing pipeline and assay data"},
            {"client": "Penrose Batteries", "cp": "Volta Motors",
             "purpose": "a possible cell-supply agreement",
             "asset": "its cathode chemistry and test results"},
            {"client": "Kittering Games", "cp": "Nimbus Publishing",
             "purpose": "a possible publishing deal",
             "asset": "its unreleased game build and player analytics"},
        ),
    ),
)


# --------------------------------------------------------------------------------------------
# Finance (slots are computed so that every good answer's arithmetic is right)
# --------------------------------------------------------------------------------------------


def _liquidity_slots() -> tuple[dict[str, str], ...]:
    rows = (
        ("Harbor Tools Inc.", 48.6, 32.4, 18.9),
        ("Pinecrest Foods", 121.0, 88.0, 35.2),
        ("Novalink Telecom", 73.5, 70.0, 9.8),
    )
    slots = []
    for co, ca, cl, inv in rows:
        quick = (ca - inv) / cl
        can = "can" if quick >= 1 else "cannot"
        slots.append({
            "co": co, "ca": _m(ca), "cl": _m(cl), "inv": _m(inv), "cur": f"{ca / cl:.2f}",
            "quick": f"{quick:.2f}", "wrong_quick": f"{(ca - inv) / ca:.2f}",
            "comment": (
                f"With a quick ratio of {quick:.2f}x, {co} {can} cover its current liabilities "
                "without selling inventory, so the speed of inventory turnover and the timing "
                "of supplier payments are worth watching."
            ),
        })
    return tuple(slots)


def _margin_slots() -> tuple[dict[str, str], ...]:
    rows = (
        ("Kestrel Apparel", 140, 38.2, "higher cotton and freight costs outweighed price rises"),
        ("Solace Home Goods", 90, 41.5, "promotional discounting cleared excess inventory"),
        ("Arden Semiconductors", 230, 51.7,
         "the product mix weakened and factory utilisation fell"),
    )
    return tuple(
        {
            "co": co, "bps": str(bps), "gm": f"{gm:.1f}", "driver": driver,
            "pct": f"{bps / 100:.1f}", "prev": f"{gm + bps / 100:.1f}",
            "wrong": f"{bps / 10:.0f}", "wrong_prev": f"{gm + bps / 10:.1f}",
        }
        for co, bps, gm, driver in rows
    )


def _run_rate_slots() -> tuple[dict[str, str], ...]:
    rows = (("data platform", 600, 4, 236), ("customer support", 1200, 7, 742),
            ("brand marketing", 450, 5, 170))
    slots = []
    for team, budget, months, spent in rows:
        rate = spent / months
        proj = rate * 12
        rem = 12 - months
        needed = (budget - spent) / rem
        if proj > budget:
            diff = proj - budget
            verdict = (
                f"At this rate the team will overspend by about ${_m(diff)}k "
                f"({diff / budget * 100:.0f}% over budget), so spending needs to fall to about "
                f"${_m(needed)}k a month for the remaining {rem} months to land on budget."
            )
            short = f"No, the team is on track to overspend its ${budget:,}k budget"
            hides = f", hiding a ${_m(diff)}k overrun"
        else:
            diff = budget - proj
            verdict = (
                f"At this rate the team will finish about ${_m(diff)}k under budget, with room "
                f"for up to ${_m(needed)}k a month over the remaining {rem} months."
            )
            short = f"Yes, the team is on track to stay within its ${budget:,}k budget"
            hides = ""
        slots.append({
            "team": team, "budget": f"{budget:,}", "months": str(months), "spent": str(spent),
            "rate": _m(rate), "proj": _m(proj), "verdict": verdict, "verdict_short": short,
            "wrong_rate": _m(spent / 12), "wrong_diff": f"{budget - spent:,}", "hides": hides,
        })
    return tuple(slots)


def _eps_slots() -> tuple[dict[str, str], ...]:
    rows = (("Marlow Industrial", 1.12, 1.25, 0.21), ("Tessel Software", 0.48, 0.52, 0.09),
            ("Brookfield Chemicals", 2.05, 2.30, 0.40))
    return tuple(
        {
            "co": co, "eps": f"{eps:.2f}", "prev": f"{prev:.2f}", "charge": f"{charge:.2f}",
            "adj": f"{eps + charge:.2f}", "wrong": f"{eps - charge:.2f}",
            "rep_chg": f"{(1 - eps / prev) * 100:.1f}",
            "adj_chg": f"{((eps + charge) / prev - 1) * 100:.1f}",
            "wrong_chg": f"{(1 - (eps - charge) / prev) * 100:.1f}",
        }
        for co, eps, prev, charge in rows
    )


def _covenant_slots() -> tuple[dict[str, str], ...]:
    rows = (("Ridgeway Logistics", 540.0, 310.0, 260.0, 1.5),
            ("Calder Hotels", 880.0, 520.0, 400.0, 1.5),
            ("Osprey Components", 215.0, 120.0, 150.0, 1.0))
    return tuple(
        {
            "co": co, "tl": _m(tl), "debt": _m(debt), "eq": _m(eq), "cov": f"{cov:.1f}",
            "de": f"{debt / eq:.2f}", "tle": f"{tl / eq:.2f}",
            "headroom": _m(cov * eq - debt), "max_debt": _m(cov * eq),
            "debt_share": f"{debt / tl * 100:.0f}",
        }
        for co, tl, debt, eq, cov in rows
    )


def _fifty_slots() -> tuple[dict[str, str], ...]:
    rows = ((3600, 3), (4200, 6), (2900, 4))
    slots = []
    for net, months in rows:
        needs, wants, savings = net * 0.5, net * 0.3, net * 0.2
        fund, wrong_fund = months * needs, months * net
        slots.append({
            "net": f"{net:,}", "months": str(months), "needs": f"{needs:,.0f}",
            "wants": f"{wants:,.0f}", "savings": f"{savings:,.0f}", "fund": f"{fund:,.0f}",
            "time": f"{fund / savings:g}", "wrong_fund": f"{wrong_fund:,.0f}",
            "wrong_time": f"{wrong_fund / savings:g}",
        })
    return tuple(slots)


def _cash_gap_slots() -> tuple[dict[str, str], ...]:
    rows = (("Wrenfield Components", 42.0, 11.5, 19.8, 14.2),
            ("Mosaic Pharma", 88.0, 20.0, 41.0, 22.5),
            ("Tallis Outdoor", 15.6, 4.2, 6.9, 9.3))
    return tuple(
        {"co": co, "ni": _m(ni), "dep": _m(dep), "ar": _m(ar), "inv": _m(inv),
         "ocf": _m(ni + dep - ar - inv)}
        for co, ni, dep, ar, inv in rows
    )


def _organic_slots() -> tuple[dict[str, str], ...]:
    rows = (("Halden Group", 4.5, 3.0, 1.2), ("Veritas Instruments", 6.1, 1.8, 2.4),
            ("Corran Media", 2.2, 5.5, 0.6))
    return tuple(
        {"co": co, "org": f"{org:.1f}", "acq": f"{acq:.1f}", "fx": f"{fx:.1f}",
         "rep": f"{org + acq - fx:.1f}"}
        for co, org, acq, fx in rows
    )


def _analyst_slots() -> tuple[dict[str, str], ...]:
    # co, rev, rev_py, gp, gp_py, opex, opex_py, ni, ni_py, shares, ocf, capex, net debt,
    # ebitda, guidance
    rows = (
        ("Aldermoor Systems", 1240.0, 1105.0, 533.2, 486.2, 341.0, 320.5, 138.4, 118.9, 84.0,
         176.3, 52.1, 210.0, 248.6, "6–8%"),
        ("Brightwell Consumer", 860.0, 842.0, 292.4, 303.1, 214.6, 205.3, 51.2, 66.0, 40.0,
         70.5, 38.0, 315.0, 118.4, "1–3%"),
        ("Northwind Medical", 455.0, 398.0, 291.2, 250.7, 201.4, 180.2, 64.1, 49.9, 31.5, 81.9,
         17.4, -45.0, 106.3, "10–12%"),
    )
    slots = []
    for (co, rev, rev_py, gp, gp_py, opex, opex_py, ni, ni_py, sh, ocf, capex, nd, ebitda,
         guide) in rows:
        op, op_py = gp - opex, gp_py - opex_py
        rev_g, op_g, ni_g = (rev / rev_py - 1) * 100, (op / op_py - 1) * 100, (
            ni / ni_py - 1) * 100
        gm, gm_py = gp / rev * 100, gp_py / rev_py * 100
        opm, opm_py = op / rev * 100, op_py / rev_py * 100
        fcf = ocf - capex
        conv = fcf / ni * 100
        leverage = (
            f"Net debt of ${_m(nd)}m against EBITDA of ${_m(ebitda)}m is {nd / ebitda:.2f}x "
            "leverage, comfortably inside typical covenant levels of 3.0x, so the balance sheet "
            "does not constrain investment or distributions."
            if nd > 0 else
            f"The company ended the year with net cash of ${_m(-nd)}m and EBITDA of "
            f"${_m(ebitda)}m, so leverage is not a constraint and there is capacity for "
            "bolt-on acquisitions or higher distributions."
        )
        leverage_row = f"{nd / ebitda:.2f}x" if nd > 0 else f"net cash ${_m(-nd)}m"
        if conv >= 100:
            conv_text = "Conversion above 100% means reported earnings are fully backed by cash."
        elif conv >= 80:
            conv_text = "Conversion is healthy; earnings are largely backed by cash."
        else:
            conv_text = (
                "Conversion below 80% means a meaningful part of earnings did not turn into "
                "cash this year; the working-capital movements behind it should be explained."
            )
        tone = (
            "Operating profit grew faster than revenue, so the year delivered operating leverage."
            if op_g > rev_g else
            "Operating profit lagged revenue, so the year showed negative operating leverage."
        )
        margin_head = (
            f"Margins. Gross margin was {gm:.1f}% against {gm_py:.1f}% a year earlier "
            f"({gm - gm_py:+.1f} points). Operating expenses were ${_m(opex)}m, "
            f"{opex / rev * 100:.1f}% of revenue versus {opex_py / rev_py * 100:.1f}% last year. "
        )
        slots.append({
            "co": co, "guide": guide,
            "figures": (
                f"Revenue {_m(rev)} (prior year {_m(rev_py)}); gross profit {_m(gp)} (prior "
                f"{_m(gp_py)}); operating expenses {_m(opex)} (prior {_m(opex_py)}); net income "
                f"{_m(ni)} (prior {_m(ni_py)}); diluted shares {sh:g}m; operating cash flow "
                f"{_m(ocf)}; capex {_m(capex)}; "
                + (f"net debt {_m(nd)}" if nd > 0 else f"net cash {_m(-nd)}")
                + f"; EBITDA {_m(ebitda)}"
            ),
            "headline": (
                f"Headline. Revenue grew {rev_g:.1f}% to ${_m(rev)}m and operating profit "
                f"moved {op_g:+.1f}% to ${_m(op)}m. Net income was ${_m(ni)}m "
                f"({ni_g:+.1f}%), giving diluted EPS of ${ni / sh:.2f} on {sh:g}m diluted "
                f"shares. {tone}"
            ),
            "table": (
                "Key figures (FY, $m unless stated)\n"
                f"- Revenue: {_m(rev)} vs {_m(rev_py)} ({rev_g:+.1f}%)\n"
                f"- Gross profit: {_m(gp)} vs {_m(gp_py)}\n"
                f"- Operating profit: {_m(op)} vs {_m(op_py)} ({op_g:+.1f}%)\n"
                f"- Net income: {_m(ni)} vs {_m(ni_py)} ({ni_g:+.1f}%)\n"
                f"- Diluted EPS: ${ni / sh:.2f}\n"
                f"- Free cash flow: {_m(fcf)}\n"
                f"- Net debt / EBITDA: {leverage_row}"
            ),
            "margins": margin_head + (
                f"Operating profit of ${_m(op)}m gives an operating margin of {opm:.1f}% "
                f"(operating profit / revenue), against {opm_py:.1f}% last year, a change of "
                f"{opm - opm_py:+.1f} points."
            ),
            "margins_bad": margin_head + (
                f"Operating profit of ${_m(op)}m gives an operating margin of "
                f"{op / gp * 100:.1f}% (operating profit / gross profit), against "
                f"{op_py / gp_py * 100:.1f}% last year, a change of "
                f"{op / gp * 100 - op_py / gp_py * 100:+.1f} points."
            ),
            "cash": (
                f"Cash. Operating cash flow was ${_m(ocf)}m and capital expenditure "
                f"${_m(capex)}m ({capex / rev * 100:.1f}% of revenue), so free cash flow was "
                f"${_m(fcf)}m, a conversion of {conv:.0f}% of net income. {conv_text}"
            ),
            "leverage": f"Balance sheet. {leverage}",
            "summary": (
                "Summary for the committee\n"
                f"- Revenue {rev_g:+.1f}%, operating profit {op_g:+.1f}%, net income "
                f"{ni_g:+.1f}%.\n"
                f"- Free cash flow ${_m(fcf)}m, {conv:.0f}% of net income.\n"
                f"- Net debt / EBITDA: {leverage_row}.\n"
                f"- Guidance for next year: revenue growth of {guide}."
            ),
            "revenue": (
                f"Revenue. Revenue of ${_m(rev)}m compares with ${_m(rev_py)}m, an increase of "
                f"${_m(rev - rev_py)}m ({rev_g:.1f}%). The figures provided do not split growth "
                "between volume, price, acquisitions and currency, so we treat the whole "
                "increase as reported growth and will ask for the organic figure."
            ),
            "quality": (
                f"Earnings quality. Net income moved {ni_g:+.1f}% against {op_g:+.1f}% for "
                "operating profit; the difference reflects items below operating profit "
                "(interest, tax and any other income), which the figures provided do not "
                "separate. Depreciation and amortisation, implied by EBITDA less operating "
                f"profit, were ${_m(ebitda - op)}m, {(ebitda - op) / rev * 100:.1f}% of revenue."
            ),
            "rev_g": f"{rev_g:.1f}", "gm_delta": f"{gm - gm_py:+.1f}",
            "opm": f"{opm:.1f}", "wrong_opm": f"{op / gp * 100:.1f}",
        })
    return tuple(slots)


_VARIANCE_LINES: tuple[tuple[str, str, str], ...] = (
    # name, reason if over budget (adverse), reason if under budget (favourable)
    ("Salaries", "two planned hires started earlier than budgeted",
     "two planned hires started later than budgeted"),
    ("Contractors", "two contractors were extended to cover the delayed billing-system migration",
     "contractor work finished ahead of plan"),
    ("Software licences", "extra seats were bought for new joiners",
     "the analytics suite renewal was negotiated down"),
    ("Travel", "the team attended two unplanned customer workshops",
     "several planned trips were replaced by video calls"),
    ("Training", "a certification course was brought forward",
     "the leadership course was postponed to next quarter"),
    ("Cloud hosting", "test environments were left running after the load-testing sprint",
     "reserved-instance pricing took effect"),
    ("Recruitment fees", "an agency was used for a hard-to-fill security role",
     "both roles were filled through referrals"),
    ("Events", "the partner summit cost more than planned",
     "the partner summit was moved to next quarter"),
)


def _variance_slots() -> tuple[dict[str, str], ...]:
    rows = (
        ("Operations Engineering", 3,
         ((820, 836), (120, 171), (95, 88), (40, 56), (30, 12), (210, 248), (25, 24), (60, 21))),
        ("Finance Systems", 2,
         ((540, 528), (90, 132), (70, 74), (25, 37), (20, 6), (80, 91), (15, 38), (35, 14))),
        ("Customer Platform", 4,
         ((1150, 1172), (200, 264), (140, 126), (55, 71), (45, 20), (310, 341), (30, 29),
          (90, 52))),
    )
    slots = []
    for dept, quarter, figures in rows:
        lines, lines_bad, lines_minor, prompt_lines = [], [], [], []
        for (name, why_over, why_under), (budget, actual) in zip(
            _VARIANCE_LINES, figures, strict=True
        ):
            var = actual - budget
            pct = var / budget * 100
            prompt_lines.append(f"{name} {budget}/{actual}")
            sign = "+" if var > 0 else "-" if var < 0 else ""
            head = f"- {name}: budget ${budget}k, actual ${actual}k, variance {sign}${abs(var)}k "
            if abs(pct) <= 5 and abs(var) <= 10:
                text = head + f"({pct:+.1f}%) — within tolerance, no comment needed."
                lines.append(text)
                lines_bad.append(text)
                lines_minor.append(text)
                continue
            label, why = ("adverse", why_over) if var > 0 else ("favourable", why_under)
            text = head + f"({pct:+.1f}%), {label}: {why}."
            lines.append(text)
            lines_minor.append(
                head + f"({var / actual * 100:+.1f}%), {label}: {why}." if name == "Travel"
                else text
            )
            lines_bad.append(
                head + f"({pct:+.1f}%), favourable: {why}." if name == "Contractors" else text
            )
            if name == "Contractors":
                contractors = {"c_budget": str(budget), "c_actual": str(actual),
                               "c_var": f"{var:,}"}
            if name == "Travel":
                travel = {"t_right": f"{pct:+.1f}", "t_wrong": f"{var / actual * 100:+.1f}"}
        controllable = sum(
            actual - budget
            for (name, *_), (budget, actual) in zip(_VARIANCE_LINES, figures, strict=True)
            if name in ("Contractors", "Cloud hosting") and actual > budget
        )
        remaining = 4 - quarter
        forecast = (
            f"If the adverse contractor and hosting spend (${controllable}k this quarter) "
            f"continues, it would add about ${controllable * remaining}k over the remaining "
            f"{remaining} quarter{'s' if remaining > 1 else ''} of the year, on top of the "
            f"${controllable}k already incurred."
            if remaining else
            f"Q{quarter} is the last quarter of the year, so the ${controllable}k adverse "
            "contractor and hosting spend carries straight into the full-year outturn; it should "
            "be addressed in next year's budget rather than this year's forecast."
        )
        total_b = sum(b for b, _ in figures)
        total_a = sum(a for _, a in figures)
        total_var = total_a - total_b
        total = (
            f"Total: budget ${total_b:,}k, actual ${total_a:,}k, variance "
            f"{'+' if total_var > 0 else '-'}${abs(total_var):,}k "
            f"({total_var / total_b * 100:+.1f}%), "
            + ("adverse overall." if total_var > 0 else "favourable overall.")
        )
        slots.append({
            "dept": dept, "q": str(quarter), "next_q": str(quarter % 4 + 1),
            "prompt_lines": "; ".join(prompt_lines), "total": total,
            "lines": "\n".join(lines), "lines_bad": "\n".join(lines_bad),
            "lines_minor": "\n".join(lines_minor), "forecast": forecast, **contractors, **travel,
        })
    return tuple(slots)


_LIQ_GOOD = (
    "Current ratio = current assets / current liabilities = {ca} / {cl} = {cur}x. Quick ratio = "
    "(current assets − inventory) / current liabilities = ({ca} − {inv}) / {cl} = {quick}x. "
    "{comment}"
)

_GM_INTRO = (
    "Gross margin is the share of revenue left after paying the direct cost of the products "
    "sold. A basis point is one hundredth of a percentage point, so a {bps} basis-point "
    "contraction means the margin fell by {pct} percentage points, from {prev}% a year ago to "
    "{gm}% now."
)

_EPS_GOOD = (
    "Reported diluted EPS fell from ${prev} to ${eps}, a {rep_chg}% decline. The restructuring "
    "charge reduced EPS by ${charge}, so adding it back gives EPS excluding the charge of ${eps} "
    "+ ${charge} = ${adj}. On that basis EPS rose {adj_chg}% from ${prev}, which suggests the "
    "underlying business improved and the reported decline comes from the one-off charge, "
    "assuming the prior-year quarter had no similar items."
)

_FIFTY_HEAD = (
    "Under 50/30/20, needs get 50% (${needs}), wants 30% (${wants}) and savings 20% (${savings}) "
    "of the ${net} monthly take-home pay. An emergency fund of {months} months of needs is "
    "{months} × ${needs} = ${fund}. Saving ${savings} a month, it takes ${fund} / ${savings} = "
    "{time} months to build."
)

_CASH_HEAD = (
    "Operating cash flow starts from net income of ${ni}m and adds back depreciation of ${dep}m, "
    "because depreciation is a non-cash expense. The ${ar}m increase in receivables is revenue "
    "booked but not yet collected, and the ${inv}m increase in inventory is cash spent on stock "
    "not yet sold; both are uses of cash and are subtracted. So ${ni}m + ${dep}m − ${ar}m − "
    "${inv}m = ${ocf}m."
)

_ORGANIC = (
    "Reported growth of {rep}% is the change in revenue as published. Organic growth of {org}% "
    "strips out acquisitions and currency, so it shows how the businesses {co} already owned "
    "grew at constant exchange rates. The bridge is {org}% organic + {acq} points from "
    "acquisitions {fx_sign} {fx} points from currency = {rep}% reported. The organic figure is "
    "the better guide to underlying demand."
)

_NOTE_HEAD = (
    "{co} — full-year results note for the investment committee\n"
    "Prepared from the reported figures only; we have not yet spoken to management.\n\n"
    "{headline}\n\n{table}"
)

_NOTE_OUTLOOK_GOOD = (
    "Outlook. Management guides to revenue growth of {guide} next year, against {rev_g}% this "
    "year. The figures provided contain no segment, pricing or market-share data, so we cannot "
    "yet judge how achievable the guidance is; we will ask for the volume and price split on the "
    "results call before changing our forecasts."
)

_NOTE_OUTLOOK_BAD = (
    "Outlook. Management guides to revenue growth of {guide} next year. We expect {co} to take "
    "market share from its larger competitors and to beat this guidance comfortably, which makes "
    "the shares attractive at current levels."
)

_NOTE_TAIL = (
    "Questions for management. (1) What drove the {gm_delta}-point gross margin move: price, mix "
    "or input costs, and how much of it persists into next year? (2) Were there one-off items "
    "within operating expenses? The figures provided do not separate them. (3) What capital "
    "expenditure is planned for next year, and how much of it is growth rather than maintenance? "
    "(4) How is working capital expected to move if the guidance is met? (5) How will free cash "
    "flow be split between reinvestment, acquisitions and returns to shareholders?\n\n"
    "Conclusion. On these figures alone we would not change our view of {co}; we keep the "
    "recommendation under review until the results call and will circulate an updated model "
    "afterwards. All figures are as reported; no adjustments have been made."
)


def _note(margins: str, outlook: str) -> str:
    return "\n\n".join((
        _NOTE_HEAD, "{summary}", "{revenue}", margins, "{quality}", "{cash}", "{leverage}",
        outlook, _NOTE_TAIL,
    ))


_VARIANCE_HEAD = (
    "Q{q} budget variance review — {dept}\n"
    "Prepared for the finance business partner. Variances are actual minus budget; for cost "
    "lines a positive variance (spend above budget) is adverse and a negative variance is "
    "favourable. Percentages are against budget. Material variances are those above 5% or "
    "$10k.\n\n"
    "Data and method\n"
    "Actuals are taken from the general ledger at quarter close and include accruals for "
    "invoices received after period end. Budget figures are the phased annual budget approved "
    "in January, with no re-phasing applied. Figures are in $k, rounded to the nearest "
    "thousand.\n\n"
    "Line-by-line\n"
)

_VARIANCE_TAIL = (
    "\n{total}\n\n"
    "Commentary\n"
    "Most of the adverse movement is in contractors and cloud-related spend, both of which are "
    "controllable within the next quarter. Favourable variances mostly reflect timing (courses "
    "and events moved into Q{next_q}) rather than genuine savings, so they should not be treated "
    "as released budget; the Q{next_q} forecast needs to absorb them.\n\n"
    "Recommendations\n"
    "1. Agree an end date for the extended contractors with the migration lead and stop further "
    "extensions without business-partner approval.\n"
    "2. Switch off idle test environments automatically outside working hours and review "
    "hosting spend weekly until it is back on budget.\n"
    "3. Re-phase the postponed training and event spend into the Q{next_q} forecast so the "
    "full-year outturn is not overstated as a saving.\n"
    "4. Keep travel under pre-approval, and record customer-funded trips separately so they are "
    "not mistaken for overspend.\n"
    "5. Review the full-year forecast with the department head before the next reforecast and "
    "confirm which of the favourable variances are permanent.\n\n"
    "Forecast impact\n"
    "{forecast}\n\n"
    "Items to watch next quarter\n"
    "- Contractor end dates and any further extension requests.\n"
    "- Cloud hosting: idle environments and reserved-instance coverage.\n"
    "- Recruitment: whether agencies are used for the remaining open roles.\n"
    "- Timing items (training, events) landing in Q{next_q} as planned."
)

FINANCE: tuple[Template, ...] = (
    Template(
        key="finance.liquidity",
        project="finance-ratios-v2",
        prompt=(
            "Ratio analysis: {co} reports current assets of ${ca}m, including inventory of "
            "${inv}m, and current liabilities of ${cl}m. Calculate the current ratio and the "
            "quick (acid-test) ratio and comment briefly on liquidity."
        ),
        good=_LIQ_GOOD,
        good_note="Correct: both ratios divide by current liabilities; quick ratio = {quick}x.",
        minor=_minor(
            "Unsupported claim",
            _LIQ_GOOD + " This is well above the industry average, so {co}'s liquidity is among "
            "the strongest in its sector.",
            "Claims {co}'s liquidity is well above the industry average and among the strongest "
            "in its sector; no industry data was given to support that.",
        ),
        major=_major(
            "Calculation error",
            "Current ratio = current assets / current liabilities = {ca} / {cl} = {cur}x. Quick "
            "ratio = (current assets − inventory) / current assets = ({ca} − {inv}) / {ca} = "
            "{wrong_quick}x. {co} therefore has limited liquidity once inventory is excluded.",
            "Divides by current assets instead of current liabilities for the quick ratio "
            "({wrong_quick}x); the correct figure is ({ca} − {inv}) / {cl} = {quick}x.",
        ),
        slots=_liquidity_slots(),
    ),
    Template(
        key="finance.gross_margin",
        project="finance-earnings-v2",
        prompt=(
            "Earnings explainer: Explain this line from {co}'s quarterly results to a "
            "non-finance manager: \"Gross margin contracted {bps} basis points year over year to "
            "{gm}%, as {driver}.\""
        ),
        good=_GM_INTRO + (
            " The company says this happened because {driver}. In other words, for every $100 "
            "of sales about ${gm} is now left after direct costs, against ${prev} a year ago."
        ),
        good_note="Correct: {bps} bps = {pct} percentage points, from {prev}% to {gm}%.",
        minor=_minor(
            "Misread statement",
            _GM_INTRO + (
                " This happened mainly because the company sold fewer units than a year ago, so "
                "its fixed production costs were spread over less volume."
            ),
            "Attributes the margin decline to lower sales volume; the line says it happened "
            "because {driver}.",
        ),
        major=_major(
            "Calculation error",
            "A basis point is one tenth of a percentage point, so a {bps} basis-point "
            "contraction means gross margin fell by {wrong} percentage points, from "
            "{wrong_prev}% to {gm}%. That is a very large drop, and the company says it happened "
            "because {driver}.",
            "Treats a basis point as a tenth of a percentage point, so {bps} bps becomes {wrong} "
            "points (from {wrong_prev}%); it is {pct} points, from {prev}% to {gm}%.",
        ),
        slots=_margin_slots(),
    ),
    Template(
        key="finance.run_rate",
        project="finance-budgeting-v2",
        prompt=(
            "Budgeting: The {team} team has an annual budget of ${budget}k. After {months} "
            "months it has spent ${spent}k. If spending continues at the same monthly rate, will "
            "it stay within budget? Show the projection."
        ),
        good=(
            "Monthly run rate = ${spent}k / {months} months = ${rate}k a month. Projected "
            "full-year spend = ${rate}k × 12 = ${proj}k against a budget of ${budget}k. {verdict}"
        ),
        good_note="Correct: run rate over months elapsed, projected spend ${proj}k.",
        minor=_minor(
            "Instruction not followed",
            "{verdict_short}, based on the current spending pattern. The team should keep "
            "monitoring its spend every month.",
            "Gives the conclusion without the run rate or the projection (${rate}k a month, "
            "${proj}k for the year), which the prompt explicitly asked to see.",
        ),
        major=_major(
            "Calculation error",
            "Monthly run rate = ${spent}k / 12 = ${wrong_rate}k a month. Projected full-year "
            "spend = ${wrong_rate}k × 12 = ${spent}k against a budget of ${budget}k. The team is "
            "comfortably within budget, with about ${wrong_diff}k to spare.",
            "Divides year-to-date spend by 12 instead of by the {months} months elapsed, so the "
            "projection (${spent}k) understates full-year spend of ${proj}k{hides}.",
        ),
        slots=_run_rate_slots(),
    ),
    Template(
        key="finance.eps_charge",
        project="finance-earnings-v2",
        prompt=(
            "Earnings explainer: Explain this line from {co}'s results: \"Diluted EPS was "
            "${eps} compared with ${prev} in the prior-year quarter, and included a "
            "restructuring charge of ${charge} per share.\" What was EPS excluding the charge, "
            "and how does it compare with last year?"
        ),
        good=_EPS_GOOD,
        good_note="Correct: adds the charge back, EPS excluding the charge ${adj}.",
        minor=_minor(
            "Unsupported claim",
            _EPS_GOOD + " The restructuring will also lift EPS by at least 20% next year.",
            "Asserts the restructuring will lift next year's EPS by at least 20%; nothing in the "
            "line supports any forecast.",
        ),
        major=_major(
            "Calculation error",
            "Reported diluted EPS fell from ${prev} to ${eps}. Excluding the restructuring "
            "charge, EPS was ${eps} − ${charge} = ${wrong}, so underlying EPS fell {wrong_chg}% "
            "and the business is deteriorating faster than the headline suggests.",
            "Subtracts the ${charge} restructuring charge instead of adding it back: EPS "
            "excluding the charge is ${adj} (up {adj_chg}%), not ${wrong}.",
        ),
        slots=_eps_slots(),
    ),
    Template(
        key="finance.covenant",
        project="finance-ratios-v2",
        prompt=(
            "Ratio analysis: {co}'s balance sheet shows total liabilities of ${tl}m, of which "
            "interest-bearing debt is ${debt}m, and shareholders' equity of ${eq}m. The loan "
            "covenant defines leverage as interest-bearing debt divided by equity and requires "
            "it to stay below {cov}x. Does {co} comply?"
        ),
        good=(
            "Covenant leverage = interest-bearing debt / equity = {debt} / {eq} = {de}x. That is "
            "below the {cov}x limit, so {co} complies, with headroom of about ${headroom}m of "
            "extra debt before a breach (at {cov}x, debt could reach ${max_debt}m). Total "
            "liabilities are not the covenant measure, because they include non-interest-bearing "
            "items such as trade payables."
        ),
        good_note="Correct: debt / equity = {de}x, within the {cov}x covenant.",
        minor=_minor(
            "Instruction not followed",
            "Leverage = interest-bearing debt / equity = {debt} / {eq} = {de}x. For comparison, "
            "total liabilities to equity is {tl} / {eq} = {tle}x, and debt makes up "
            "{debt_share}% of total liabilities.",
            "Computes leverage correctly ({de}x) but never says whether {co} complies with the "
            "{cov}x covenant, which was the question asked.",
        ),
        major=_major(
            "Misread statement",
            "Leverage = total liabilities / equity = {tl} / {eq} = {tle}x. That is above the "
            "{cov}x limit, so {co} is in breach of its covenant and the lender could demand "
            "repayment.",
            "Uses total liabilities (${tl}m) instead of interest-bearing debt (${debt}m) as the "
            "covenant defines; leverage is {de}x, within the {cov}x limit, not a breach.",
        ),
        slots=_covenant_slots(),
    ),
    Template(
        key="finance.fifty_thirty_twenty",
        project="finance-budgeting-v2",
        prompt=(
            "Budgeting question: An employee takes home ${net} a month and wants to follow the "
            "50/30/20 rule. How much goes to needs, wants and savings each month, and how long "
            "will it take to build an emergency fund covering {months} months of needs from the "
            "savings share alone?"
        ),
        good=_FIFTY_HEAD + (
            " Keeping the fund in an easy-access savings account means it is there when needed."
        ),
        good_note="Correct: fund = {months} months of needs (${fund}), {time} months to build.",
        minor=_minor(
            "Unsupported claim",
            _FIFTY_HEAD + (
                " Investing it in a stock index fund instead will earn a guaranteed 10% a year "
                "and shorten that time considerably."
            ),
            "Promises a guaranteed 10% annual return from a stock index fund; returns are not "
            "guaranteed, and an emergency fund should not sit in volatile investments.",
        ),
        major=_major(
            "Calculation error",
            "Under 50/30/20, needs get ${needs}, wants ${wants} and savings ${savings} a month. "
            "An emergency fund of {months} months is {months} × ${net} = ${wrong_fund}. Saving "
            "${savings} a month, it takes {wrong_time} months to build.",
            "Sizes the fund on {months} months of total take-home pay (${wrong_fund}) instead of "
            "needs (${fund}), so it takes {wrong_time} months instead of {time}.",
        ),
        slots=_fifty_slots(),
    ),
    Template(
        key="finance.cash_gap",
        project="finance-earnings-v2",
        prompt=(
            "Earnings explainer: {co} reported net income of ${ni}m but operating cash flow of "
            "only ${ocf}m. The cash flow statement shows depreciation of ${dep}m, an increase in "
            "receivables of ${ar}m and an increase in inventory of ${inv}m, and no other "
            "adjustments. Explain the gap."
        ),
        good=_CASH_HEAD + (
            " The gap is a working-capital build, which is worth watching if receivables keep "
            "growing faster than sales."
        ),
        good_note="Correct: reconciles net income to operating cash flow of ${ocf}m.",
        minor=_minor(
            "Unsupported claim",
            _CASH_HEAD + " This pattern shows that management is manipulating earnings to hit "
            "its targets.",
            "Concludes that management is manipulating earnings; a working-capital build alone "
            "does not support that claim.",
        ),
        major=_major(
            "Misread statement",
            "Operating cash flow starts from net income of ${ni}m. The ${ar}m increase in "
            "receivables added cash because customers owe the company more, but the ${inv}m "
            "inventory build and ${dep}m of depreciation were cash outflows in the period. That "
            "is why operating cash flow is lower than net income.",
            "Treats the ${ar}m receivables increase as a cash inflow and depreciation as a cash "
            "outflow; both are the other way round, and the figures do not reconcile to "
            "${ocf}m.",
        ),
        slots=_cash_gap_slots(),
    ),
    Template(
        key="finance.organic_growth",
        project="finance-earnings-v2",
        prompt=(
            "Earnings explainer: Explain this line to a new analyst: \"{co} revenue grew {rep}% "
            "on a reported basis and {org}% organically; acquisitions added {acq} percentage "
            "points and currency movements reduced growth by {fx} points.\""
        ),
        good=_ORGANIC.replace("{fx_sign}", "−"),
        good_note="Correct: {org}% organic + {acq} acquisitions − {fx} currency = {rep}%.",
        minor=_minor(
            "Calculation error",
            _ORGANIC.replace("{fx_sign}", "+"),
            "Adds the {fx}-point currency effect in the growth bridge; the line says currency "
            "reduced growth, and {org} + {acq} − {fx} = {rep} only with it subtracted.",
        ),
        major=_major(
            "Misread statement",
            "Organic growth of {org}% is growth including the businesses {co} acquired during "
            "the year but excluding currency, and reported growth of {rep}% adds currency "
            "movements on top. So the acquisitions are part of the {org}% organic figure, which "
            "is why analysts focus on it.",
            "Says organic growth includes acquired businesses; organic growth excludes both "
            "acquisitions and currency, so the {acq} points from acquisitions sit outside the "
            "{org}% figure.",
        ),
        slots=_organic_slots(),
    ),
    Template(
        key="finance.analyst_note",
        project="finance-earnings-v2",
        long=True,
        prompt=(
            "Analyst note: Write a results note on {co}'s full-year results for the investment "
            "committee, using only these figures ($m unless stated): {figures}. Management "
            "guides to revenue growth of {guide} next year."
        ),
        good=_note("{margins}", _NOTE_OUTLOOK_GOOD),
        good_note="Correct: operating margin on revenue ({opm}%), no unsupported forecasts.",
        minor=_minor(
            "Unsupported claim",
            _note("{margins}", _NOTE_OUTLOOK_BAD),
            "Claims {co} will take market share and beat its {guide} guidance; the figures "
            "provided contain no market-share data or any basis for beating guidance.",
        ),
        major=_major(
            "Calculation error",
            _note("{margins_bad}", _NOTE_OUTLOOK_GOOD),
            "Computes operating margin as operating profit / gross profit ({wrong_opm}%); "
            "operating margin is operating profit / revenue, which is {opm}%.",
        ),
        slots=_analyst_slots(),
    ),
    Template(
        key="finance.variance_review",
        project="finance-budgeting-v2",
        long=True,
        prompt=(
            "Budget variance review: Prepare the Q{q} variance review for the {dept} "
            "department for the finance business partner. Budget/actual in $k: "
            "{prompt_lines}. Explain each material variance (over 5% or $10k), label it "
            "favourable or adverse, and give recommendations."
        ),
        good=_VARIANCE_HEAD + "{lines}" + _VARIANCE_TAIL,
        good_note="Correct: variances labelled properly, all percentages against budget.",
        minor=_minor(
            "Calculation error",
            _VARIANCE_HEAD + "{lines_minor}" + _VARIANCE_TAIL,
            "Computes the travel variance as {t_wrong}% of actual spend; against budget, which "
            "the review uses everywhere else, it is {t_right}%.",
        ),
        major=_major(
            "Misread statement",
            _VARIANCE_HEAD + "{lines_bad}" + _VARIANCE_TAIL,
            "Labels the ${c_var}k contractor overspend (actual ${c_actual}k against a budget of "
            "${c_budget}k) as favourable; spending above budget on a cost line is adverse.",
        ),
        slots=_variance_slots(),
    ),
)

TEMPLATES: dict[str, tuple[Template, ...]] = {
    "clinical": CLINICAL,
    "legal": LEGAL,
    "finance": FINANCE,
}
