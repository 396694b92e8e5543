"""Verbs, adjectives, names and towns of the synthetic English.

Verbs are listed by frame: which class of subject and which class of object they take
(``food animate: eat`` means animate things eat foods). Adjectives are listed by the kind of
noun they describe, and by whether they compare with ``-er``/``-est`` or with ``more``/``most``.
Class names refer to the noun groups of :mod:`mlm_book.corpus.synthetic.nouns`.
"""

from __future__ import annotations

# "object_class subject_class: verbs"
TRANSITIVE = """food animate: eat chew nibble swallow
food person: make cook bake buy sell share taste chop serve pack fry boil order slice grill wrap
drink animate: drink
drink person: sip pour spill
readable person: read write print copy study fold tear post deliver publish translate borrow
car person: drive park steer wash repair
bike person: ride push
boat person: sail row steer paint
thing person: carry find lose fix clean paint hide drop hold keep bring take throw break mend
thing person: polish wrap want need like collect touch move lift push pull shake sell buy steal
thing person: return weigh check choose forget borrow lend
container person: fill empty
openable person: open close lock unlock
clothing person: wear fold wash knit sew buy iron mend
instrument person: play tune
place person: visit leave reach explore enter
plant person: water plant grow pick cut trim
building person: build paint repair design
animal person: feed pat stroke brush wash watch follow photograph draw
animal animal: chase watch follow
person person: meet help call thank greet invite teach hug visit"""

INTRANSITIVE = """animate: sleep rest wait hide play
land: run walk jump sit climb
person: run walk jump sit climb dance laugh smile cry shout whistle wave yawn sneeze shiver work
fly: fly
swim: swim
sing: sing
person: swim sing"""

SOUNDS = "bark growl purr hiss squeak neigh moo bleat grunt crow quack hoot coo buzz howl roar croak"

DITRANSITIVE = "give hand show send lend bring offer sell throw"

SAYING = "say think know believe hope hear notice"

MOTION = "go walk drive travel run hurry"

RIDABLE_ANIMALS = "horse pony camel donkey elephant"

# adjective groups, by the nouns they describe
SIZE = "big small tiny huge large tall short long wide narrow thick thin heavy light"
COLOUR = "red blue green yellow white black brown grey pink purple golden silver"
AGE = "old young new ancient modern"
QUALITY = """good bad nice fine lovely pretty ugly strange beautiful wonderful terrible perfect
simple plain fancy cheap expensive rare famous special useful"""
CONDITION = """soft hard warm cold hot cool wet dry clean dirty empty full smooth rough sharp
blunt bright dark shiny dull broken wooden strong weak loud quiet fast slow safe dangerous"""
TASTE = """fresh stale sweet sour salty spicy bitter tasty delicious juicy ripe crunchy creamy
rich hot cold warm"""
MOOD = """happy sad angry tired hungry thirsty sleepy brave kind clever calm busy lazy proud shy
friendly gentle wise silly funny curious nervous cheerful grumpy polite rude honest lucky
careful patient quick bold fierce wild tame healthy"""
READING = "interesting boring exciting long short funny sad famous old new thick thin"
PLACE = "busy quiet crowded peaceful noisy old beautiful big small famous ancient modern"
WEATHER = "sunny windy rainy cloudy foggy snowy stormy cold warm hot wet dry"

# graded with -er/-est, and graded with more/most; the others (colours, wooden ...) are not graded
SUFFIX_GRADED = """big small tiny huge large tall short long wide narrow thick thin heavy light
old young new good bad nice fine lovely pretty ugly strange cheap rare simple plain soft hard
warm cold hot cool wet dry clean dirty full smooth rough sharp blunt bright dark shiny dull
strong weak loud quiet fast slow safe fresh sweet sour salty spicy tasty juicy ripe crunchy
creamy rich happy sad angry tired hungry thirsty sleepy brave kind clever calm busy lazy proud
shy friendly gentle wise silly funny grumpy polite rude lucky quick bold fierce wild tame healthy
sunny windy rainy cloudy foggy snowy stormy noisy"""

MORE_GRADED = """beautiful wonderful terrible expensive famous useful special dangerous delicious bitter
interesting boring exciting curious nervous cheerful careful patient honest peaceful crowded
modern ancient"""

FEMALE_NAMES = """Anna Beth Clara Dorothy Emma Fiona Grace Hannah Iris Julia Kate Laura Maria Nora Olivia
Paula Rosa Sarah Tessa Ursula Vera Wendy Alice Bella Chloe Dina Eva Freya Gemma Helen Ivy
Jane Lila Lucy Mia Nina Polly Ruby Sophie Tara Zoe Amy Carla Dora Ella Flora Greta Hazel Ingrid
Jenny Leah Martha Nell Opal Pia Rita Stella Tina Una Violet Willa Yara Agnes Brenda Cora Edith
Hilda Irene Lena Mabel Naomi"""

MALE_NAMES = """Adam Ben Carl David Ethan Frank George Harry Isaac Jack Kevin Leo Max Noah Oscar
Peter Quentin Robert Sam Tom Victor William Alan Bruno Colin Dan Edward Felix Gavin Henry Ivan
Jacob Karl Liam Mark Nathan Owen Paul Ryan Simon Theo Umar Walter Xavier Yusuf Zack Albert Boris
Cecil Dennis Eric Fred Gordon Hugo Igor Jonah Kurt Lewis Martin Neil Otto Philip Rex Steve Toby
Vince Wayne Arthur Barry Clive Derek Eli Hector Jasper Miles"""

TOWNS = """Millbrook Oakford Riverton Ashbury Stonebridge Elmwood Fairhaven Brightwater Kingsley
Westmoor Redcliff Greenvale Highfield Lakeside Northwick Southport Eastfield Willowby Foxhill
Larkspur Pinecrest Maplewood Rosedale Silverton Thornbury Amberley Briarwood Coldwater Deepdale
Fernhill Goldcrest Hollowmere Ironbridge Juniper Kestrel Moorland"""

NUMBER_WORDS = "two three four five six seven eight nine ten eleven twelve"
