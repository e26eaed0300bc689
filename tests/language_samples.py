"""Passages written for the language check's tests: news-like text in many languages.

Each is a few sentences, as a feed item's title and lead would be, on the kind of news
the bot tracks. English ones are the hard cases: many names and figures, few small words.
"""

from __future__ import annotations

NOT_ENGLISH: dict[str, tuple[str, ...]] = {
    "german": (
        "Die Außenminister der Europäischen Union haben am Montag in Brüssel über weitere "
        "Hilfen für die Ukraine beraten. Mehrere Regierungen wollen die Lieferung von "
        "Luftabwehrsystemen beschleunigen, Ungarn blockiert jedoch weiterhin eine Einigung.",
        "Der Bundeskanzler sagte nach dem Treffen, Deutschland werde seine Zusagen einhalten. "
        "Über die Entsendung von Soldaten werde erst nach einem Waffenstillstand entschieden, "
        "betonte ein Sprecher der Regierung in Berlin.",
        "Russland hat nach Angaben der Kiewer Behörden in der Nacht erneut Drohnen und Raketen "
        "auf die Energieversorgung abgefeuert. In mehreren Regionen fiel der Strom für Stunden "
        "aus.",
        "NATO-Generalsekretär Mark Rutte warnte vor zu hohen Erwartungen an die Gespräche in "
        "Genf. Ein Abkommen ohne belastbare Sicherheitsgarantien für Kiew sei nichts wert.",
    ),
    "french": (
        "Les ministres des Affaires étrangères du G7 se sont réunis mardi à Paris pour discuter "
        "des garanties de sécurité que les alliés pourraient offrir à l'Ukraine après la fin "
        "des combats. Aucun accord n'a été trouvé sur le déploiement d'une force au sol.",
        "Le président a estimé que la France était prête à participer à une mission de "
        "réassurance, à condition qu'un cessez-le-feu soit respecté par Moscou et que les "
        "États-Unis apportent leur soutien aérien.",
        "Selon le ministère de la Défense, une nouvelle livraison de missiles doit arriver "
        "avant la fin du mois. Les parlementaires de l'opposition réclament davantage de "
        "transparence sur le coût de ces équipements.",
    ),
    "spanish": (
        "El Gobierno de España anunció el jueves un nuevo paquete de ayuda militar para "
        "Ucrania, que incluye munición y vehículos blindados. La ministra de Defensa explicó "
        "que el envío se realizará en coordinación con los aliados de la OTAN.",
        "Los negociadores de ambas partes se reunieron durante más de seis horas en Estambul "
        "sin alcanzar un acuerdo sobre el intercambio de prisioneros, según fuentes "
        "diplomáticas citadas por la prensa local.",
        "La inflación en la zona del euro bajó en marzo por tercer mes consecutivo, lo que "
        "aumenta la presión sobre el Banco Central Europeo para recortar los tipos de interés.",
    ),
    "polish": (
        "Minister obrony narodowej poinformował w środę, że Polska przekaże Ukrainie kolejny "
        "pakiet pomocy wojskowej. Rząd chce też zwiększyć wydatki na obronność do pięciu "
        "procent produktu krajowego brutto.",
        "Prezydent spotkał się z przywódcami państw bałtyckich, aby omówić bezpieczeństwo "
        "wschodniej flanki sojuszu. Według rzecznika rozmowy dotyczyły także ochrony "
        "infrastruktury krytycznej na Morzu Bałtyckim.",
        "Do granicy z Białorusią wysłano dodatkowych żołnierzy, a straż graniczna odnotowała "
        "w tym tygodniu wzrost liczby prób nielegalnego przekroczenia granicy.",
    ),
    "italian": (
        "Il governo italiano ha approvato un nuovo decreto sugli aiuti militari all'Ucraina, "
        "che resterà in vigore fino alla fine dell'anno. L'opposizione chiede che il "
        "Parlamento venga consultato prima di ogni invio di armi.",
        "Secondo fonti diplomatiche, i colloqui tra le delegazioni sono stati lunghi e "
        "difficili, ma le parti hanno concordato di rivedersi la prossima settimana a Roma.",
    ),
    "portuguese": (
        "O governo brasileiro afirmou nesta segunda-feira que não enviará armas para nenhum "
        "dos lados do conflito e defendeu uma solução negociada, com a participação de países "
        "que mantêm relações com Moscou e Kiev.",
        "As exportações de petróleo caíram no último trimestre, segundo dados divulgados pelo "
        "instituto de estatística, e os economistas esperam uma recuperação lenta.",
    ),
    "dutch": (
        "Het kabinet heeft besloten om extra geld vrij te maken voor de levering van "
        "gevechtsvliegtuigen aan Oekraïne. De minister van Defensie zei dat de eerste toestellen "
        "nog dit jaar kunnen worden overgedragen.",
        "Volgens de inlichtingendienst zijn er aanwijzingen dat buitenlandse hackers de "
        "afgelopen maanden hebben geprobeerd om toegang te krijgen tot de systemen van havens.",
    ),
    "swedish": (
        "Regeringen meddelade på tisdagen att Sverige skickar ytterligare luftvärn till "
        "Ukraina. Försvarsministern sade att stödet är viktigt för hela regionens säkerhet.",
    ),
    "turkish": (
        "Dışişleri Bakanı, İstanbul'da yapılan görüşmelerin olumlu geçtiğini ve tarafların "
        "esir takasına ilişkin yeni bir tur için yeniden bir araya gelmeyi kabul ettiğini "
        "açıkladı.",
    ),
    "czech": (
        "Vláda ve středu schválila další balík vojenské pomoci pro Ukrajinu. Ministryně obrany "
        "uvedla, že dodávky munice budou pokračovat i v příštím roce podle plánu.",
    ),
    "vietnamese": (
        "Bộ Ngoại giao cho biết các cuộc đàm phán về thương mại giữa hai nước sẽ tiếp tục vào "
        "tuần tới tại Hà Nội, sau khi hai bên đạt được một số tiến bộ quan trọng.",
    ),
    "norwegian": (
        "Regjeringen vil gi mer penger til Forsvaret for å styrke luftvernet i nord. "
        "Forsvarsministeren sa at det er viktig å ha nok soldater ved grensen til Russland, "
        "og at Norge skal bidra til en fredsstyrke dersom det blir våpenhvile.",
    ),
    "danish": (
        "Statsministeren sagde tirsdag, at Danmark er klar til at sende flere kampfly til "
        "Ukraine, men at det kræver en aftale med de andre lande i alliancen om vedligeholdelse "
        "og uddannelse af piloter i byen Skrydstrup.",
    ),
    "romanian": (
        "Ministrul Apărării a declarat că România va găzdui un nou exercițiu militar la Marea "
        "Neagră, la care vor participa nave din mai multe state membre ale alianței.",
    ),
    "hungarian": (
        "A kormány szóvivője szerint Magyarország továbbra sem támogatja az újabb szankciókat, "
        "és a tárgyalásos rendezést tartja az egyetlen járható útnak a háború lezárására.",
    ),
    "finnish": (
        "Puolustusministeri kertoi tiistaina, että Suomi lähettää Ukrainalle uuden "
        "puolustustarvikepaketin. He korostivat, että tuki jatkuu niin kauan kuin tarvitaan.",
    ),
    "indonesian": (
        "Menteri Luar Negeri mengatakan bahwa Indonesia siap menjadi tuan rumah perundingan "
        "damai dan akan mengirim bantuan kemanusiaan untuk warga sipil yang terdampak perang.",
    ),
    "russian": (
        "Лавров заявил, что Россия никогда не согласится на вступление Украины в НАТО и не "
        "примет присутствие иностранных войск на её территории после окончания боевых действий.",
        "Министерство обороны сообщило, что ночью силы противовоздушной обороны перехватили "
        "более сорока беспилотников над несколькими областями. Пострадавших нет.",
        "Песков назвал переговоры в Стамбуле полезными, но подчеркнул, что говорить о "
        "скором прекращении огня пока рано. Следующая встреча делегаций ещё не назначена.",
        "Центральный банк сохранил ключевую ставку на прежнем уровне, объяснив решение "
        "высокой инфляцией и неопределённостью на мировых рынках нефти и газа.",
    ),
    "ukrainian": (
        "Зеленський заявив, що Україна потребує надійних гарантій безпеки від партнерів ще до "
        "підписання будь-якої угоди про припинення вогню з Росією.",
        "Уночі російські війська атакували енергетичну інфраструктуру в кількох областях. "
        "За даними Укренерго, частина споживачів тимчасово залишилася без світла.",
        "Міністр закордонних справ провів телефонну розмову з колегою з Польщі та обговорив "
        "спільні проєкти з відновлення пошкоджених мостів і залізниць.",
    ),
    "bulgarian": (
        "Министерският съвет одобри днес проект за модернизация на армията, който предвижда "
        "закупуване на нови бронирани машини и системи за противовъздушна отбрана.",
    ),
    "greek": (
        "Ο υπουργός Εξωτερικών δήλωσε ότι η Ελλάδα στηρίζει την εδαφική ακεραιότητα της "
        "Ουκρανίας και ότι θα συνεχίσει να συμμετέχει στις κοινές αποστολές της Ευρωπαϊκής Ένωσης.",
    ),
    "arabic": (
        "قال وزير الخارجية إن بلاده مستعدة لاستضافة جولة جديدة من المفاوضات بين الطرفين، "
        "مؤكدا أن الحل السياسي هو الطريق الوحيد لإنهاء الحرب وعودة اللاجئين إلى ديارهم.",
        "أعلنت وزارة الدفاع أن الدفاعات الجوية اعترضت عددا من الطائرات المسيرة فوق العاصمة "
        "خلال الليل، ولم تسجل أي إصابات بين المدنيين.",
    ),
    "hebrew": (
        "שר החוץ אמר כי ישראל תמשיך לפעול בזירה הדיפלומטית כדי למנוע מאיראן להשיג נשק גרעיני, "
        "וכי השיחות עם בעלות הברית יימשכו בשבוע הבא.",
    ),
    "persian": (
        "سخنگوی وزارت امور خارجه گفت که ایران آماده ادامه گفت‌وگو با آژانس بین‌المللی انرژی "
        "اتمی است، اما تحریم‌ها باید پیش از هر توافقی لغو شوند.",
    ),
    "hindi": (
        "विदेश मंत्री ने कहा कि भारत इस संघर्ष का शांतिपूर्ण समाधान चाहता है और दोनों पक्षों से "
        "बातचीत जारी रखने की अपील करता है। उन्होंने मानवीय सहायता बढ़ाने की भी घोषणा की।",
    ),
    "thai": (
        "กระทรวงการต่างประเทศแถลงว่ารัฐบาลพร้อมสนับสนุนการเจรจาสันติภาพและจะส่งความช่วยเหลือ"
        "ด้านมนุษยธรรมไปยังพื้นที่ที่ได้รับผลกระทบจากการสู้รบโดยเร็วที่สุด",
    ),
    "chinese": (
        "外交部发言人周二表示，中方愿意继续为推动停火和和平谈判发挥建设性作用，"
        "并呼吁有关各方保持克制，避免局势进一步升级。",
        "国家统计局公布的数据显示，今年第一季度国内生产总值同比增长百分之五，"
        "出口增速有所放缓，消费成为拉动经济增长的主要动力。",
    ),
    "japanese": (
        "政府は火曜日、ウクライナへの追加の人道支援を決定したと発表した。"
        "外務大臣は記者会見で、国際社会と連携して復興を支えていく考えを示した。",
    ),
    "korean": (
        "외교부는 화요일 양국 장관이 회담을 열고 공급망 협력과 안보 문제를 논의했다고 밝혔다. "
        "양측은 다음 달 서울에서 후속 회의를 개최하기로 합의했다.",
    ),
}

# English that is hard for the check: dense with names, places and figures.
HARD_ENGLISH: tuple[str, ...] = (
    "Kyiv, Warsaw and Vilnius signed a joint air-defence pact; Berlin, Paris and London "
    "pledged funds. Delivery: 2026-2027. Cost: EUR 4.2bn, per Lithuania's defence ministry.",
    "Zelensky, Macron, Starmer and Merz met in Kyiv on Saturday; Rutte joined by video link. "
    "Talks covered air defence, Patriot batteries, F-16 deliveries and a reassurance force "
    "of 25,000 to 30,000 troops from France, Britain and the Nordics.",
    "Kharkiv, Sumy, Dnipro and Zaporizhzhia regions reported drone strikes overnight, "
    "Ukraine's air force said, with 112 of 140 Shahed-type drones shot down or jammed.",
    "Lavrov: Ukraine will never join NATO, and Moscow rejects any Western troops on Ukrainian "
    "soil after a ceasefire, Russia's foreign minister told reporters in Moscow on Tuesday.",
)

# Too short to judge, in any language: a headline, a few words.
SHORT: tuple[str, ...] = (
    "",
    "   ",
    "Lavrov rules out NATO membership for Ukraine",
    "Лавров: Украина никогда не вступит в НАТО",
    "Macron reçoit Zelensky à l'Élysée",
    "Merz will Taurus liefern",
    "中方呼吁停火",
    "وزير الخارجية يصل إلى موسكو",
    "2025-08-18 14:00 UTC — 3 / 4",
)
