"""The nouns of the synthetic English: real lemmas grouped by meaning.

Each group is a semantic class that verbs select (only foods are eaten, only readables are
read, only vehicles are driven). A noun may sit in several groups (``ring`` is a thing and
clothing). Animals carry their size (1 tiny ... 6 huge, for true comparisons) and what they
can do: fly, swim, be kept as a pet, the sound they make, and
``nolegs`` for those that cannot walk, run or jump. Plurals come from
:mod:`mlm_book.corpus.synthetic.inflect`; mass nouns (``soup``, ``tea``) take no plural.
"""

from __future__ import annotations

PEOPLE = """man woman child boy girl baby person friend neighbour stranger visitor student guest
cousin uncle aunt king queen prince princess giant wizard knight traveller hero thief captain
grandmother grandfather teenager tourist"""

JOBS = """baker farmer teacher doctor nurse pilot driver cook painter writer singer dancer gardener
fisherman builder carpenter plumber butcher tailor librarian postman firefighter officer soldier
sailor judge lawyer dentist vet scientist engineer mechanic musician poet artist banker clerk
cashier waiter shepherd miner potter jeweller barber hunter guard porter actor journalist
photographer pharmacist architect accountant professor inventor explorer astronaut sculptor
blacksmith beekeeper grocer florist cleaner translator zookeeper ranger coach"""

# lemma size abilities (fly, swim, pet) and sounds
ANIMALS = """dog 3 swim pet bark growl | puppy 2 pet bark | cat 2 pet purr hiss | kitten 1 pet purr
| rabbit 2 pet | hamster 1 pet squeak | mouse 1 squeak | rat 1 squeak | parrot 2 fly pet
| canary 1 fly pet sing | goldfish 1 swim pet nolegs | tortoise 2 pet | horse 5 neigh | pony 4 pet neigh
| donkey 4 | cow 5 moo | sheep 4 bleat | goat 3 bleat | pig 4 grunt | chicken 2 | rooster 2 crow
| duck 2 fly swim quack | goose 3 fly swim hiss | swan 3 fly swim hiss | owl 2 fly hoot
| eagle 3 fly | hawk 2 fly | crow 2 fly | pigeon 2 fly coo | sparrow 1 fly sing | robin 1 fly sing
| seagull 2 fly swim | bee 1 fly buzz | butterfly 1 fly | mosquito 1 fly buzz | bat 1 fly
| fox 3 | wolf 4 howl growl | bear 5 growl | lion 5 roar | tiger 5 roar | elephant 6 | giraffe 6
| zebra 5 | monkey 3 | deer 4 | camel 5 | kangaroo 4 | squirrel 1 | hedgehog 1 | frog 1 swim croak
| toad 1 croak | snake 2 hiss nolegs | lizard 1 | turtle 2 swim | crocodile 5 swim | whale 6 swim nolegs
| dolphin 5 swim nolegs | shark 5 swim nolegs | seal 4 swim bark | otter 2 swim | beaver 2 swim | badger 2
| mole 1 | ant 1 | spider 1 | snail 1 nolegs | worm 1 nolegs | penguin 3 swim | ox 5 | bull 5 | lamb 2 bleat
| moose 6 | hippo 6 swim | rhino 6 | panda 5 | koala 2 | gorilla 5 | octopus 3 swim nolegs | crab 1 swim
| salmon 2 swim nolegs | trout 1 swim nolegs"""

FOODS = """apple banana orange pear peach plum cherry grape lemon melon mango strawberry carrot potato
tomato onion cucumber pumpkin cabbage sandwich cake pie biscuit cookie muffin pancake waffle
sausage burger egg bun doughnut pretzel tart scone dumpling walnut olive radish turnip apricot
coconut pineapple avocado pepper omelette"""

DISHES = """soup rice pasta cheese bread porridge curry pizza honey chocolate salad stew jam butter
yoghurt spaghetti toast popcorn cereal sushi lasagne risotto couscous pudding custard"""

DRINKS = "tea coffee milk juice water lemonade cocoa"

READABLES = """book letter newspaper magazine poem story novel map note recipe diary report menu
sign comic postcard label manual article message list notice card leaflet poster textbook
dictionary atlas guidebook storybook journal essay script contract invitation timetable"""

CARS = "car bus truck van tractor taxi lorry jeep ambulance train tram minibus"
BIKES = "bicycle bike scooter motorbike tricycle"
BOATS = "boat ship canoe yacht ferry raft"

PLACES = """park market library school station garden beach forest river bridge harbour museum
hospital bakery farm village church castle shop square hill lake zoo cinema theatre office
factory kitchen cellar attic meadow field valley island mountain cave palace stadium airport
pool pond orchard restaurant hotel inn"""

THINGS = """key box chair lamp cup bottle basket bag ring clock watch knife fork spoon plate bowl
brush ball kite ladder rope bucket candle mirror pencil pen blanket umbrella hammer nail coin
stone shell feather flag gift parcel jar kettle pot pan tray vase toy doll puzzle camera phone
radio wallet purse suitcase pillow towel sponge broom comb needle button glass lantern compass
whistle bell shovel spade axe net tent helmet"""

CONTAINERS = "box cup bottle basket bag bucket jar kettle pot pan bowl vase suitcase glass tray"

CLOTHING = """hat coat scarf boot glove sock dress shirt jacket sweater skirt cap belt apron cloak
uniform raincoat sandal slipper shoe vest hood mitten necklace bracelet ring"""

INSTRUMENTS = """piano violin guitar drum flute trumpet harp cello clarinet trombone banjo accordion
harmonica saxophone tuba ukulele xylophone oboe organ"""

PLANTS = """tree flower rose tulip bush daisy lily sunflower oak fern herb vine hedge orchid
daffodil poppy cactus"""

BUILDINGS = """house shed barn cottage tower wall fence cabin hut garage greenhouse windmill
lighthouse gate door window"""

OPENABLES = "box bag basket jar bottle suitcase door window gate book letter parcel"

TIMES = "morning afternoon evening night"
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
