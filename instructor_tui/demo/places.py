"""Real towns of Grand Est with their postcodes, weighted roughly by population, and a few outside.

Used by the demo generator; (city, postcode, weight). Weights are rough, for plausibility only.
"""

from __future__ import annotations

GRAND_EST_TOWNS: tuple[tuple[str, str, int], ...] = (
    # 08 Ardennes
    ("Charleville-Mézières", "08000", 46),
    ("Sedan", "08200", 16),
    ("Rethel", "08300", 8),
    ("Givet", "08600", 6),
    ("Revin", "08500", 6),
    ("Nouzonville", "08700", 5),
    ("Bogny-sur-Meuse", "08120", 5),
    ("Vouziers", "08400", 4),
    # 10 Aube
    ("Troyes", "10000", 60),
    ("Romilly-sur-Seine", "10100", 14),
    ("La Chapelle-Saint-Luc", "10600", 12),
    ("Saint-André-les-Vergers", "10120", 11),
    ("Sainte-Savine", "10300", 10),
    ("Bar-sur-Aube", "10200", 5),
    ("Nogent-sur-Seine", "10400", 6),
    # 51 Marne
    ("Reims", "51100", 180),
    ("Châlons-en-Champagne", "51000", 44),
    ("Épernay", "51200", 22),
    ("Vitry-le-François", "51300", 12),
    ("Tinqueux", "51430", 9),
    ("Sézanne", "51120", 5),
    ("Cormontreuil", "51350", 6),
    ("Sainte-Menehould", "51800", 4),
    # 52 Haute-Marne
    ("Chaumont", "52000", 22),
    ("Saint-Dizier", "52100", 23),
    ("Langres", "52200", 8),
    ("Joinville", "52300", 3),
    ("Nogent", "52800", 4),
    # 54 Meurthe-et-Moselle
    ("Nancy", "54000", 105),
    ("Vandœuvre-lès-Nancy", "54500", 30),
    ("Lunéville", "54300", 18),
    ("Toul", "54200", 15),
    ("Villers-lès-Nancy", "54600", 14),
    ("Laxou", "54520", 14),
    ("Pont-à-Mousson", "54700", 14),
    ("Longwy", "54400", 14),
    ("Saint-Max", "54130", 9),
    ("Jarville-la-Malgrange", "54140", 9),
    ("Briey", "54150", 5),
    # 55 Meuse
    ("Verdun", "55100", 17),
    ("Bar-le-Duc", "55000", 15),
    ("Commercy", "55200", 5),
    ("Saint-Mihiel", "55300", 4),
    ("Ligny-en-Barrois", "55500", 4),
    ("Stenay", "55700", 3),
    # 57 Moselle
    ("Metz", "57000", 120),
    ("Thionville", "57100", 41),
    ("Montigny-lès-Metz", "57950", 21),
    ("Forbach", "57600", 21),
    ("Sarreguemines", "57200", 20),
    ("Yutz", "57970", 17),
    ("Saint-Avold", "57500", 15),
    ("Hayange", "57700", 16),
    ("Sarrebourg", "57400", 12),
    ("Creutzwald", "57150", 12),
    ("Woippy", "57140", 13),
    ("Fameck", "57290", 13),
    ("Bitche", "57230", 5),
    # 67 Bas-Rhin
    ("Strasbourg", "67000", 140),
    ("Strasbourg", "67100", 70),
    ("Strasbourg", "67200", 60),
    ("Haguenau", "67500", 35),
    ("Schiltigheim", "67300", 33),
    ("Illkirch-Graffenstaden", "67400", 27),
    ("Lingolsheim", "67380", 19),
    ("Sélestat", "67600", 19),
    ("Bischheim", "67800", 17),
    ("Bischwiller", "67240", 12),
    ("Saverne", "67700", 11),
    ("Obernai", "67210", 11),
    ("Molsheim", "67120", 10),
    ("Wissembourg", "67160", 7),
    # 68 Haut-Rhin
    ("Mulhouse", "68100", 75),
    ("Mulhouse", "68200", 35),
    ("Colmar", "68000", 67),
    ("Saint-Louis", "68300", 22),
    ("Wittenheim", "68270", 14),
    ("Illzach", "68110", 14),
    ("Kingersheim", "68260", 13),
    ("Rixheim", "68170", 13),
    ("Riedisheim", "68400", 12),
    ("Guebwiller", "68500", 11),
    ("Cernay", "68700", 11),
    ("Thann", "68800", 7),
    ("Munster", "68140", 5),
    # 88 Vosges
    ("Épinal", "88000", 32),
    ("Saint-Dié-des-Vosges", "88100", 19),
    ("Gérardmer", "88400", 8),
    ("Remiremont", "88200", 8),
    ("Thaon-les-Vosges", "88150", 7),
    ("Neufchâteau", "88300", 6),
    ("Golbey", "88190", 8),
    ("Mirecourt", "88500", 5),
    ("Vittel", "88800", 5),
    ("Rambervillers", "88700", 5),
)

# (city, postcode, country): applicants who live outside the Region (not eligible).
OUTSIDE_TOWNS: tuple[tuple[str, str, str], ...] = (
    ("Paris", "75011", "FR"),
    ("Paris", "75015", "FR"),
    ("Lyon", "69003", "FR"),
    ("Dijon", "21000", "FR"),
    ("Besançon", "25000", "FR"),
    ("Vesoul", "70000", "FR"),
    ("Lille", "59000", "FR"),
    ("Amiens", "80000", "FR"),
    ("Saarbrücken", "66111", "DE"),
    ("Luxembourg", "1009", "LU"),
)

# Landline prefixes of north-east France (area 03) for plausible fixed phones.
LANDLINE_PREFIXES = ("0387", "0388", "0389", "0383", "0326", "0325", "0329", "0324", "0382", "0390")
