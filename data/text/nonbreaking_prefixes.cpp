#include "data/text/nonbreaking_prefixes.h"

#include <sstream>

#include "core/services/error.h"
#include "data/text/utf8.h"

namespace tg::text {

namespace {

// The word lists, one entry per whitespace-separated word; "#N" after a word
// marks it numeric-only (Moses writes "#NUMERIC_ONLY#").
constexpr std::string_view kEnglish =
    "A B C D E F G H I J K L M N O P Q R S T U V W X Y Z "
    "Adj Adm Adv Asst Bart Bldg Brig Bros Capt Cmdr Col Comdr Con Corp Cpl DR Dr Drs Ens Gen Gov Hon "
    "Hr Hosp Insp Lt MM MR MRS MS Maj Messrs Mlle Mme Mr Mrs Ms Msgr Op Ord Pfc Ph Prof Pvt Rep Reps "
    "Res Rev Rt Sen Sens Sfc Sgt Sr St Supt Surg "
    "v vs i.e rev e.g Rs "
    "No#N Nos Art#N Nr pp#N "
    "Jan Feb Mar Apr Jun Jul Aug Sep Oct Nov Dec";

constexpr std::string_view kGerman =
    "A B C D E F G H I J K L M N O P Q R S T U V W X Y Z "
    "a b c d e f g h i j k l m n o p q r s t u v w x y z "
    "I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI XVII XVIII XIX XX "
    "i ii iii iv v vi vii viii ix x xi xii xiii xiv xv xvi xvii xviii xix xx "
    "Adj Adm Adv Asst Bart Bldg Brig Bros Capt Cmdr Col Comdr Con Corp Cpl DR Dr Ens Gen Gov Hon "
    "Hosp Insp Lt MM MR MRS MS Maj Messrs Mlle Mme Mr Mrs Ms Msgr Op Ord Pfc Ph Prof Pvt Rep Reps "
    "Res Rev Rt Sen Sens Sfc Sgt Sr St Supt Surg "
    "Mio Mrd bzw v vs usw d.h z.B u.a etc Mrd MwSt ggf d.J D.h m.E vgl I.F z.T sogen ff u.E g.U "
    "g.g.A c.-à-d Buchst u.s.w sog u.ä Std evtl Zt Chr u.U o.ä Ltd b.A z.Zt spp sen SA k.o jun "
    "i.H.v dgl dergl Co zzt usf s.p.a Dkr Corp bzgl BSE "
    "No Nos Art Nr pp ca Ca";  // German ordinals 1..99 are added below

std::unordered_map<std::u32string, PrefixKind> parse(std::string_view words) {
  std::unordered_map<std::u32string, PrefixKind> table;
  std::istringstream in{std::string(words)};
  std::string word;
  while (in >> word) {
    PrefixKind kind = PrefixKind::always;
    if (word.size() > 2 && word.compare(word.size() - 2, 2, "#N") == 0) {
      word.resize(word.size() - 2);
      kind = PrefixKind::numeric_only;
    }
    table[decode_utf8(word)] = kind;
  }
  return table;
}

}  // namespace

const std::unordered_map<std::u32string, PrefixKind>& nonbreaking_prefixes(std::string_view lang) {
  static const auto english = parse(kEnglish);
  static const auto german = [] {
    auto table = parse(kGerman);
    for (int n = 1; n <= 99; ++n) table[decode_utf8(std::to_string(n))] = PrefixKind::always;
    return table;
  }();
  if (lang == "en") return english;
  if (lang == "de") return german;
  fail("nonbreaking_prefixes: no list for language '{}'; expected 'de' or 'en'", lang);
}

}  // namespace tg::text
