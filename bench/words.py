"""The words product names are made of, shared by the seeded shops (bench.seed) and the
million-product catalogue (bench.catalogue_scale)."""

ADJECTIVES = [
    "Red", "Blue", "Green", "Black", "White", "Large", "Small", "Heavy", "Light", "Compact",
    "Classic", "Modern", "Rustic", "Premium", "Basic", "Deluxe", "Mini", "Giant", "Smart", "Eco",
]  # fmt: skip
MATERIALS = [
    "Steel", "Cotton", "Oak", "Glass", "Leather", "Plastic", "Copper", "Bamboo", "Wool", "Ceramic",
]  # fmt: skip
NOUNS = [
    "Hammer", "Kettle", "Chair", "Lamp", "Bottle", "Towel", "Basket", "Bucket", "Brush", "Mug",
    "Plate", "Shelf", "Rope", "Glove", "Jacket", "Candle", "Clock", "Drill", "Ladder", "Mirror",
    "Pillow", "Rug", "Saw", "Scarf", "Spoon", "Table", "Tray", "Vase", "Wrench", "Box",
    "Bench", "Blanket", "Cable", "Crate", "Fork", "Funnel", "Hook", "Jar", "Knife", "Mat",
    "Pan", "Pot", "Rack", "Sack", "Sponge", "Stool", "Tape", "Tile", "Tub", "Whisk",
]  # fmt: skip
